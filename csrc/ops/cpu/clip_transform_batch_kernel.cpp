// CPU clip_transform_batch (list of clips, or one packed buffer): the batch is checked clip by clip
// with clip_transform's own checks (ops/clip_transform_batch.h), then every clip runs through the
// CPU clip_transform kernel itself (clip_transform_cpu_into) straight into its slice of the
// (B, C, T', h, w) output. With at least as many clips as threads, clips run in parallel (one per
// task); with fewer, one after the other, each parallel over its own rows. So batched ==
// clip-by-clip by construction, and the CPU kernel's speed-ups apply here unchanged.
#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/empty.h>
#include <torch/library.h>

#include <cstdint>
#include <vector>

#include "common/checks.h"
#include "ops/clip_transform_batch.h"
#include "ops/cpu/clip_transform_cpu.h"

namespace fastvid {

namespace {

at::Tensor run_batch_cpu(const std::vector<PreparedClip>& clips) {
  const at::Tensor& v0 = clips.front().video;
  FASTVID_CHECK_VALUE(v0.device().is_cpu(), kBatchOp, "the CPU kernel got clips on ", v0.device(),
                      " (a per-clip argument tensor on another device than the clips sends the call "
                      "to that device's kernel; keep them on the CPU)");
  // allocate the output; strides are read in place (no .contiguous() copies)
  at::Tensor out = at::empty(batch_out_shape(clips), v0.options().dtype(clips.front().out_dtype));
  const int64_t batch = static_cast<int64_t>(clips.size());
  if (batch >= at::get_num_threads()) {
    // Enough clips for every thread: one clip per task (each clip's kernel then runs on one thread).
    at::parallel_for(0, batch, 1, [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b) {
        clip_transform_cpu_into(clips[b], out.select(0, b));
      }
    });
  } else {
    // Few clips: one after the other, each parallel over its own rows.
    for (int64_t b = 0; b < batch; ++b) {
      clip_transform_cpu_into(clips[b], out.select(0, b));
    }
  }
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(fastvid, CPU, m) {
  m.impl("clip_transform_batch", &clip_transform_batch_entry<run_batch_cpu>);
  m.impl("clip_transform_batch_packed", &clip_transform_batch_packed_entry<run_batch_cpu>);
}

}  // namespace fastvid
