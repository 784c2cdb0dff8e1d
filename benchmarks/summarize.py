"""Turn a pytest-benchmark JSON file into the tables of benchmarks/RESULTS.md.

    pytest benchmarks --benchmark-only --benchmark-json=benchmarks/results/cpu.json
    python benchmarks/summarize.py benchmarks/results/cpu.json [more.json ...] > tables.md

Each benchmark records in extra_info: role ("fastvid" or "baseline"), case (the scenario that fastvid and
its baselines share), impl (a short name) and, where it applies, clips_per_s. Within each (group, case),
the ratio is the baseline's median time over fastvid's median time (how many times faster fastvid is).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict


def _fmt_ms(seconds: float) -> str:
    ms = seconds * 1e3
    return f"{ms:.3g}" if ms < 100 else f"{ms:.0f}"


def summarize(paths: list[str]) -> str:
    rows = []
    machines = []
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        machines.append((path, data.get("machine_info", {}), data.get("datetime", "")))
        for b in data["benchmarks"]:
            info = b.get("extra_info", {})
            rows.append((b["group"] or "", info.get("case", b["name"]), info, b["stats"], b["name"]))

    out = []
    for path, m, when in machines:
        build = m.get("fastvid_build", {})
        out.append(
            f"- `{path}`: {when[:19]} UTC; {m.get('cpu_model', '?')} ({m.get('cpu_count', '?')} cores); "
            f"GPU {m.get('cuda_device') or 'none'}; Python {m.get('python_version', '?')}; torch {m.get('torch', '?')}; "
            f"torchvision {m.get('torchvision', '?')}; av {m.get('av', '?')}; fastvid {m.get('fastvid', '?')} "
            f"(cpu_isa {build.get('cpu_isa', '?')}, openmp {build.get('openmp', '?')}, cuda archs {build.get('cuda_archs') or 'none'})"
        )
    out.append("")

    by_group: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for group, case, info, stats, name in rows:
        by_group[group][case].append((info, stats, name))
    for group in sorted(by_group):
        out.append(f"### {group}")
        out.append("")
        out.append("| case | impl | median ms | IQR ms | rounds | clips/s | fastvid speed-up |")
        out.append("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
        for case in sorted(by_group[group]):
            entries = by_group[group][case]
            fast = [s["median"] for i, s, _ in entries if i.get("role") == "fastvid"]
            fast_median = min(fast) if fast else None
            entries.sort(key=lambda e: (e[0].get("role") != "fastvid", e[1]["median"]))
            for info, stats, name in entries:
                cps = info.get("clips_per_s")
                if cps is None and stats["median"] > 0 and info.get("clips"):
                    cps = info["clips"] / stats["median"]
                ratio = ""
                if info.get("role") == "baseline" and fast_median:
                    ratio = f"{stats['median'] / fast_median:.1f}x"
                out.append(
                    f"| {case} | {info.get('impl', name)} | {_fmt_ms(stats['median'])} | {_fmt_ms(stats['iqr'])} | "
                    f"{stats['rounds']} | {'' if cps is None else f'{cps:.1f}'} | {ratio} |"
                )
        out.append("")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", nargs="+", help="pytest-benchmark JSON files")
    args = parser.parse_args()
    print(summarize(args.json))


if __name__ == "__main__":
    main()
