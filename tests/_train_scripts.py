"""The script that the tests which signal a running fastvid-train start (as a file or with ``python -c``)."""

from __future__ import annotations

import textwrap


def epoch1_signal_script(argv: list[str], ready, *, phase: str = "train") -> str:
    """Python source that runs ``fastvid-train argv`` and creates the file ``ready`` once the run is in epoch 1: at
    the start of its training (``phase="train"``) or in its validation (``"validation"``, whose steps then take
    0.2 s each), for a test to signal the run there."""
    return textwrap.dedent(f"""
        import pathlib, sys
        from fastvid.train import VideoClassificationModule
        from fastvid.train.cli import main
        if {phase == "train"!r}:
            start = VideoClassificationModule.on_train_epoch_start
            def on_train_epoch_start(self):
                if self.current_epoch == 1:
                    pathlib.Path({str(ready)!r}).touch()
                return start(self)
            VideoClassificationModule.on_train_epoch_start = on_train_epoch_start
        else:
            import time
            step = VideoClassificationModule.validation_step
            def validation_step(self, *args, **kwargs):
                if self.current_epoch == 1:
                    pathlib.Path({str(ready)!r}).touch()
                    time.sleep(0.2)
                return step(self, *args, **kwargs)
            VideoClassificationModule.validation_step = validation_step
        sys.exit(main({argv!r}))
    """)
