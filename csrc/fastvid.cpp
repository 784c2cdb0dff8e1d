// The one place where every fastvid op schema is declared. Device files (ops/cpu, ops/cuda, sampling)
// only implement them with TORCH_LIBRARY_IMPL.
#include <Python.h>
#include <torch/library.h>

#include <string>

#include "common/cpu_features.h"

// Importing fastvid._C loads this library, whose static initializers register the ops below. The
// module itself has no members: ops are reached through torch.ops.fastvid.
PyMODINIT_FUNC PyInit__C(void) {
  static struct PyModuleDef module_def = {PyModuleDef_HEAD_INIT, "_C", nullptr, -1, nullptr};
  return PyModule_Create(&module_def);
}

namespace fastvid {

namespace {

std::string build_info() {
  std::string info = "cpu_isa=";
  info += cpu_kernel_isa();
#ifdef _OPENMP
  info += ";openmp=1";
#else
  info += ";openmp=0";
#endif
#ifdef FASTVID_WITH_CUDA
  info += ";cuda=1;cuda_archs=";
  info += FASTVID_CUDA_ARCHS;
#else
  info += ";cuda=0;cuda_archs=";
#endif
  return info;
}

}  // namespace

TORCH_LIBRARY(fastvid, m) {
  m.def("build_info() -> str", &build_info);

  // Fused temporal subsample + bilinear resize + crop + flip + scale/normalize + layout, one pass.
  // video: (C,T,H,W) or (T,H,W,C) per `layout`, uint8 or float32, any strides.
  // Output (C, T', crop_h, crop_w), contiguous, out_dtype.
  m.def(
      "clip_transform(Tensor video, str layout, Tensor? frame_indices, int[]? size, int[]? crop, "
      "bool flip, float? scale, float[]? mean, float[]? std, bool antialias, ScalarType out_dtype) "
      "-> Tensor");

  // clip_transform on B clips of different source sizes in one call (one launch on CUDA); per-clip
  // arguments are tensors with one row per clip, best kept on the CPU (they are read on the host):
  // frame_indices (B, T'), sizes (B, 2), crop_offsets (B, 2) = (top, left), flips (B,); crop_size
  // (h, w) is common. Output (B, C, T', h, w), contiguous; batched == clip_transform clip by clip.
  m.def(
      "clip_transform_batch(Tensor[] videos, str layout, Tensor? frame_indices, Tensor? sizes, "
      "Tensor? crop_offsets, int[] crop_size, Tensor? flips, float? scale, float[]? mean, "
      "float[]? std, bool antialias, ScalarType out_dtype) -> Tensor");
  // The same on one packed 1-D buffer: clip b is buffer.as_strided(shapes[b], strides[b],
  // offsets[b]) (shapes/strides in `layout` order); `channels` states C (checked).
  m.def(
      "clip_transform_batch_packed(Tensor buffer, Tensor offsets, Tensor shapes, Tensor strides, "
      "str layout, int channels, Tensor frame_indices, Tensor? sizes, Tensor? crop_offsets, "
      "int[] crop_size, Tensor? flips, float? scale, float[]? mean, float[]? std, bool antialias, "
      "ScalarType out_dtype) -> Tensor");

  // Test-only (csrc/testing): the CUDA kernel of clip_transform_batch run on the host over CPU clips,
  // block by block and thread by thread, every load and store checked; max_grid caps the grid's y and
  // z sizes (65535 on a GPU) to drive the kernel's grid-stride loops; fault plants a defect ("" none,
  // "read": a tap at row 2^30, "twice": block 0 run twice, "skip": block 0 not run) to show that
  // the checks catch it. Not part of the API.
  m.def(
      "_clip_transform_batch_on_host(Tensor[] videos, str layout, Tensor? frame_indices, "
      "Tensor? sizes, Tensor? crop_offsets, int[] crop_size, Tensor? flips, float? scale, "
      "float[]? mean, float[]? std, bool antialias, ScalarType out_dtype, int max_grid, "
      "str fault=\"\") -> Tensor");

  // Frame-index planner (csrc/sampling): for each clip window [start, end) over a video's sorted frame
  // pts (int64 pts or float64 seconds) -> (first, count, kept frame indices (N, num_samples), keyframe
  // index to seek to). num_samples <= 0 keeps every frame of the window.
  m.def(
      "plan_clip_frames(Tensor frame_pts, Tensor keyframes, Tensor windows, int num_samples, "
      "bool linspace_fma) -> (Tensor, Tensor, Tensor, Tensor)");
}

}  // namespace fastvid
