// Test-only: the CUDA clip_transform kernel run on the host, with every access checked.
//
// fastvid::_clip_transform_batch_on_host takes clip_transform_batch's arguments (CPU clips) plus a
// cap on the grid's y and z sizes, and does what the CUDA launch does: the same checks and
// preparation (prepare_batch), the same metadata block (plan_kernel_meta / fill_kernel_meta), the same
// grid (launch_grid) and the same per-thread body (clip_transform_thread, compiled here by the host
// compiler), called for every block and thread of the grid in turn. The access object it hands the
// body plays compute-sanitizer's part:
//   - every load must lie inside the region it belongs to: the descriptor, frame, first-tap or weight
//     region of the metadata block (not its padding), or the span of one clip's elements;
//   - every store must land on an element of the output, and every output element must be written
//     exactly once.
// A violation raises RuntimeError naming the first bad access and its block and thread. The result
// is the kernel's output, which the tests compare with the CPU kernel. A small cap on the grid
// (e.g. 1 or 2 instead of 65535) sends most rows and (clip, frame) pairs through the grid-stride loops.
// `fault` plants a defect so that the tests can show each check firing: "read" moves clip 0's first
// row tap to row 2^30, "twice" runs block (0, 0, 0) twice, "skip" leaves it out.
//
// What this does not cover: the CUDA toolchain's code generation (nvcc also contracts v += w * s into
// an FMA, which the host build does not: the values agree within the tests' tolerance, not bit for
// bit), __ldg, streams, the pinned copy, the device guard and the launch itself (the choice of kernel
// instantiation is shared: dispatch_kernel). Those need a GPU (tests/test_cuda.py). The load check knows which regions a kernel may
// read, not which of them a given load should hit: an offset that strays from one clip's taps into
// another's, or into a neighbouring clip's pixels, is caught only by the value comparison.
#include <ATen/core/Tensor.h>
#include <ATen/ops/empty.h>
#include <torch/library.h>

#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "common/checks.h"
#include "ops/clip_transform_batch.h"
#include "ops/cuda/clip_transform_device.h"
#include "ops/cuda/clip_transform_meta.h"

namespace fastvid {

namespace {

constexpr const char* kOp = "_clip_transform_batch_on_host";

struct Region {
  uintptr_t lo;  // first byte
  uintptr_t hi;  // one past the last byte
  std::string what;
};

class CheckedAccess {
 public:
  CheckedAccess(std::vector<Region> reads, uintptr_t out_lo, int64_t out_numel, size_t out_elem)
      : reads_(std::move(reads)),
        out_lo_(out_lo),
        out_elem_(out_elem),
        writes_(static_cast<size_t>(out_numel), 0) {}

  template <typename T>
  T load(const T* p) {
    if (!readable(p, sizeof(T), alignof(T))) {
      return T{};
    }
    return *p;
  }

  template <typename T>
  T load_ptr(const T* p) {
    return load(p);
  }

  template <typename T>
  void store(T* p, T v) {
    const auto a = reinterpret_cast<uintptr_t>(p);
    const uintptr_t end = out_lo_ + writes_.size() * out_elem_;
    if (sizeof(T) != out_elem_ || a < out_lo_ || a >= end || (a - out_lo_) % out_elem_ != 0) {
      fail("stores to byte ", static_cast<int64_t>(a - out_lo_),
           " of the output, which is not one of its ", writes_.size(), " elements");
      return;
    }
    uint8_t& n = writes_[(a - out_lo_) / out_elem_];
    n = n < 255 ? n + 1 : n;
    *p = v;
  }

  void at(const cuda::Index3& block, const cuda::Index3& thread) {
    block_ = block;
    thread_ = thread;
  }

  const std::string& error() const {
    return error_;
  }
  int64_t violations() const {
    return violations_;
  }
  const std::vector<uint8_t>& writes() const {
    return writes_;
  }

 private:
  bool readable(const void* p, size_t size, size_t align) {
    const auto a = reinterpret_cast<uintptr_t>(p);
    for (const Region& r : reads_) {
      if (a >= r.lo && a + size <= r.hi) {
        if (a % align != 0) {
          fail("reads ", size, " bytes at a misaligned address inside ", r.what);
          return false;
        }
        return true;
      }
    }
    // Name the nearest region, for the message.
    const Region* near = nullptr;
    uintptr_t dist = UINTPTR_MAX;
    for (const Region& r : reads_) {
      const uintptr_t d = a < r.lo ? r.lo - a : a - r.hi;
      if (d < dist) {
        dist = d;
        near = &r;
      }
    }
    if (near != nullptr && a < near->lo) {
      fail("reads ", size, " bytes ", near->lo - a, " bytes before ", near->what);
    } else if (near != nullptr) {
      fail("reads ", size, " bytes ", a + size - near->hi, " bytes past the end of ", near->what);
    } else {
      fail("reads ", size, " bytes outside every region");
    }
    return false;
  }

  template <typename... Args>
  void fail(const Args&... args) {
    if (violations_++ == 0) {
      std::ostringstream s;
      s << "block (" << block_.x << ", " << block_.y << ", " << block_.z << ") thread ("
        << thread_.x << ", " << thread_.y << ") ";
      (s << ... << args);
      error_ = s.str();
    }
  }

  std::vector<Region> reads_;
  uintptr_t out_lo_;
  size_t out_elem_;
  std::vector<uint8_t> writes_;
  cuda::Index3 block_{0, 0, 0};
  cuda::Index3 thread_{0, 0, 0};
  std::string error_;
  int64_t violations_ = 0;
};

// The bytes a clip's elements span (strides are never negative in fastvid's checks).
Region clip_span(const PreparedClip& c, int64_t b) {
  const at::Tensor& v = c.video;
  int64_t last = 0;
  for (int64_t d = 0; d < v.dim(); ++d) {
    last += (v.size(d) - 1) * v.stride(d);
  }
  const auto lo = reinterpret_cast<uintptr_t>(v.const_data_ptr());
  const auto elem = static_cast<uintptr_t>(v.element_size());
  return {lo, lo + (static_cast<uintptr_t>(last) + 1) * elem, "clip " + std::to_string(b)};
}

// Runs the kernel instantiation dispatch_kernel picks (ops/cuda/clip_transform_meta.h), as the CUDA
// launcher does, over every block and thread of the launch grid (capped at max_grid in y and z).
struct Emulate {
  int64_t max_grid;
  std::string fault;
  CheckedAccess& acc;

  template <typename in_t, typename out_t, int kTaps>
  void operator()(const cuda::KernelArgs<out_t>& k) const {
    const cuda::Index3 grid = cuda::launch_grid(k.out_w, k.out_h, k.num_bt, max_grid);
    for (int64_t bz = 0; bz < grid.z; ++bz) {
      for (int64_t by = 0; by < grid.y; ++by) {
        for (int64_t bx = 0; bx < grid.x; ++bx) {
          const cuda::Index3 block{bx, by, bz};
          const bool first = bx == 0 && by == 0 && bz == 0;
          const int runs = first && fault == "skip" ? 0 : first && fault == "twice" ? 2 : 1;
          for (int r = 0; r < runs; ++r) {
            run_block<in_t, out_t, kTaps>(k, block, grid);
          }
        }
      }
    }
  }

  template <typename in_t, typename out_t, int kTaps>
  void run_block(const cuda::KernelArgs<out_t>& k, const cuda::Index3& block,
                 const cuda::Index3& grid) const {
    for (int64_t ty = 0; ty < cuda::kBlockY; ++ty) {
      for (int64_t tx = 0; tx < cuda::kBlockX; ++tx) {
        const cuda::Index3 thread{tx, ty, 0};
        acc.at(block, thread);
        cuda::clip_transform_thread<in_t, out_t, kTaps>(k, block, thread, grid, acc);
      }
    }
  }
};

at::Tensor clip_transform_batch_on_host(at::TensorList videos, c10::string_view layout,
                                        const std::optional<at::Tensor>& frame_indices,
                                        const std::optional<at::Tensor>& sizes,
                                        const std::optional<at::Tensor>& crop_offsets,
                                        at::IntArrayRef crop_size,
                                        const std::optional<at::Tensor>& flips,
                                        std::optional<double> scale,
                                        std::optional<at::ArrayRef<double>> mean,
                                        std::optional<at::ArrayRef<double>> std, bool antialias,
                                        at::ScalarType out_dtype, int64_t max_grid,
                                        c10::string_view fault_arg) {
  FASTVID_CHECK_VALUE(max_grid >= 1 && max_grid <= cuda::kMaxGridYZ, kOp,
                      "max_grid must be in 1..", cuda::kMaxGridYZ, ", got ", max_grid);
  const std::string fault(fault_arg);
  FASTVID_CHECK_VALUE(fault.empty() || fault == "read" || fault == "twice" || fault == "skip", kOp,
                      "fault must be \"\", \"read\", \"twice\" or \"skip\", got \"", fault, "\"");
  const std::vector<PreparedClip> clips =
      prepare_batch(kOp, videos.vec(), layout, frame_indices, sizes, crop_offsets, crop_size,
                    flips, scale, mean, std, antialias, out_dtype);
  const at::Tensor& v0 = clips.front().video;
  FASTVID_CHECK_VALUE(v0.is_cpu(), kOp, "the host emulation runs on CPU clips, got clips on ",
                      v0.device());
  at::Tensor out = at::empty(batch_out_shape(clips), v0.options().dtype(out_dtype));

  const cuda::KernelMeta meta = cuda::plan_kernel_meta(clips);
  at::Tensor block = at::empty({meta.total}, v0.options().dtype(at::kByte));
  uint8_t* base = block.data_ptr<uint8_t>();
  FASTVID_CHECK_VALUE(reinterpret_cast<uintptr_t>(base) % 16 == 0, kOp,
                      "the metadata block is not 16-byte aligned");
  cuda::fill_kernel_meta(clips, meta, base);
  if (fault == "read") {
    // clip 0's first output row reads from row 2^30: far past the clip (and, with any row stride, past
    // every allocation near it, so that the bad read cannot land in another allowed region by chance)
    const auto* d = reinterpret_cast<const cuda::CudaClipDesc*>(base);
    auto* firsts = reinterpret_cast<int32_t*>(base + meta.firsts_at);
    firsts[d->row_first_off] = int32_t{1} << 30;
  }

  const auto at_ = [&](int64_t offset) { return reinterpret_cast<uintptr_t>(base) + offset; };
  std::vector<Region> reads = {
      {at_(0), at_(meta.batch * static_cast<int64_t>(sizeof(cuda::CudaClipDesc))), "the descriptors"},
      {at_(meta.frames_at), at_(meta.frames_at + meta.n_frames * 8), "the frame numbers"},
      {at_(meta.firsts_at), at_(meta.firsts_at + meta.n_firsts * 4), "the first taps"},
      {at_(meta.weights_at), at_(meta.weights_at + meta.n_weights * 4), "the weights"},
  };
  for (size_t b = 0; b < clips.size(); ++b) {
    reads.push_back(clip_span(clips[b], static_cast<int64_t>(b)));
  }
  CheckedAccess acc(std::move(reads), reinterpret_cast<uintptr_t>(out.data_ptr()), out.numel(),
                    out.element_size());
  Emulate emulate{max_grid, fault, acc};
  cuda::dispatch_kernel(meta, base, clips, out, emulate);

  TORCH_CHECK(acc.violations() == 0, kOp, ": ", acc.violations(), " bad accesses; the first: ",
              acc.error());
  const std::vector<uint8_t>& writes = acc.writes();
  for (size_t i = 0; i < writes.size(); ++i) {
    TORCH_CHECK(writes[i] == 1, kOp, ": output element ", i, " of shape ", out.sizes(),
                " was written ", static_cast<int>(writes[i]), " times (once expected)");
  }
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(fastvid, CPU, m) {
  m.impl("_clip_transform_batch_on_host", &clip_transform_batch_on_host);
}

}  // namespace fastvid
