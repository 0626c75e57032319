// value_grid::update_summarized_device: the scan and the dense counting passes of
// value_grid_device.hpp as CUDA kernels. The per-value code is the header's, shared
// with the host replay that tests it; only the adds are atomic here. Every count and
// sum is an integer, so the result is the same whatever the launch shape or the order
// in which threads add.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "../src/value_grid_device.hpp"
#include "cuda_util.cuh"
#include "driftcore/device.hpp"
#include "driftcore/value_grid.hpp"

namespace driftcore {
namespace {

using detail::cuda_check;
using detail::device_buffer;
using detail::kBinades;

struct atomic_add {
  DC_HD std::uint32_t operator()(std::uint32_t* p, std::uint32_t v) const {
#ifdef __CUDA_ARCH__
    return atomicAdd(reinterpret_cast<unsigned int*>(p), v);
#else
    const std::uint32_t old = *p;
    *p = old + v;
    return old;
#endif
  }
  DC_HD std::uint64_t operator()(std::uint64_t* p, std::uint64_t v) const {
#ifdef __CUDA_ARCH__
    return atomicAdd(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v));
#else
    const std::uint64_t old = *p;
    *p = old + v;
    return old;
#endif
  }
};

constexpr int kScanThreads = 1024;
constexpr int kThreads = 256;
// A scan block's counters, per binade: four 64-bit words and a 32-bit count.
constexpr unsigned kScanWords = 4 * kBinades + kBinades / 2;
constexpr std::size_t kScanShared = kScanWords * sizeof(std::uint64_t);

__device__ unsigned long long warp_min(unsigned long long v) {
  for (int o = 16; o; o /= 2) {
    const unsigned long long u = __shfl_xor_sync(0xFFFFFFFFu, v, o);
    v = u < v ? u : v;
  }
  return v;
}
__device__ unsigned long long warp_max(unsigned long long v) {
  for (int o = 16; o; o /= 2) {
    const unsigned long long u = __shfl_xor_sync(0xFFFFFFFFu, v, o);
    v = u > v ? u : v;
  }
  return v;
}
__device__ unsigned long long warp_sum(unsigned long long v) {
  for (int o = 16; o; o /= 2) v += __shfl_xor_sync(0xFFFFFFFFu, v, o);
  return v;
}

// One block a multiprocessor (its counters take most of the shared memory). Each
// block takes chunks of `per` values in turn (chunk blockIdx.x, then gridDim.x
// further on) and sums each into its counters, then adds the chunk's occupied binades
// to the totals `w`; its tallies go to `w` at the end. The counters are in shared
// memory, or at `scratch` (one slice a block) on cards with less shared memory a
// block than they need.
template <class T>
__global__ void __launch_bounds__(kScanThreads)
    scan_kernel(const T* __restrict__ x, std::size_t n, std::size_t per, int low,
                detail::scan_words* __restrict__ w, std::uint64_t* __restrict__ scratch) {
  extern __shared__ std::uint64_t sh[];
  std::uint64_t* base = scratch ? scratch + std::size_t(blockIdx.x) * kScanWords : sh;
  const detail::scan_block b{reinterpret_cast<std::uint32_t*>(base + 4 * kBinades), base,
                             base + kBinades, base + 2 * kBinades, base + 3 * kBinades};
  detail::scan_tally t;
  for (std::size_t begin = std::size_t(blockIdx.x) * per; begin < n;
       begin += std::size_t(gridDim.x) * per) {
    for (unsigned i = threadIdx.x; i < kScanWords; i += blockDim.x) base[i] = 0;
    __syncthreads();
    const std::size_t end = begin + per < n ? begin + per : n;
    // Four loads in flight a thread before any of them is used.
    constexpr unsigned kLoads = 4;
    for (std::size_t i = begin + threadIdx.x; i < end; i += kLoads * blockDim.x) {
      double v[kLoads];
#pragma unroll
      for (unsigned k = 0; k < kLoads; ++k) {
        const std::size_t at = i + k * blockDim.x;
        v[k] = at < end ? static_cast<double>(x[at]) : 0.0;
      }
#pragma unroll
      for (unsigned k = 0; k < kLoads; ++k)
        if (i + k * blockDim.x < end) detail::scan_value(v[k], low, b, t, atomic_add{});
    }
    __syncthreads();
    for (unsigned binade = threadIdx.x; binade < kBinades; binade += blockDim.x)
      detail::flush_binade(binade, b, w, atomic_add{});
    __syncthreads();
  }
  const unsigned long long nan = warp_sum(t.nan), pos = warp_sum(t.pos_inf),
                           neg = warp_sum(t.neg_inf);
  const unsigned long long lo = warp_min(t.min_key), hi = warp_max(t.max_key);
  if (threadIdx.x % 32 == 0) {
    if (nan) atomicAdd(reinterpret_cast<unsigned long long*>(&w->nan), nan);
    if (pos) atomicAdd(reinterpret_cast<unsigned long long*>(&w->pos_inf), pos);
    if (neg) atomicAdd(reinterpret_cast<unsigned long long*>(&w->neg_inf), neg);
    if (lo != ~0ull) atomicMin(reinterpret_cast<unsigned long long*>(&w->min_key), lo);
    if (hi) atomicMax(reinterpret_cast<unsigned long long*>(&w->max_key), hi);
  }
}

template <class T>
__global__ void dense_kernel(const T* __restrict__ x, std::size_t n,
                             const std::uint64_t* __restrict__ parents, std::uint32_t nparents,
                             int p, int s, std::uint64_t* __restrict__ counts) {
  const std::size_t stride = std::size_t(gridDim.x) * blockDim.x;
  for (std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const double v = static_cast<double>(x[i]);
    if (!detail::is_finite(v)) continue;
    const std::uint64_t slot = detail::dense_slot(detail::grid_key(v), parents, nparents, p, s);
    atomicAdd(reinterpret_cast<unsigned long long*>(counts + slot), 1ull);
  }
}

__global__ void mark_kernel(const std::uint64_t* __restrict__ slots, std::size_t n,
                            std::uint8_t* __restrict__ marks) {
  const std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) marks[slots[i]] = 1;
}

// Occupied cells of a level; with `next_counts`, of the next coarser one, built here.
__global__ void level_kernel(const std::uint64_t* __restrict__ counts,
                             const std::uint8_t* __restrict__ marks, std::size_t n,
                             std::uint64_t* __restrict__ next_counts,
                             std::uint8_t* __restrict__ next_marks,
                             unsigned long long* __restrict__ occupied) {
  const std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  bool here = false;
  if (i < n) {
    here = next_counts ? detail::halve_cell(counts, marks, next_counts, next_marks, i)
                       : counts[i] || marks[i];
  }
  const unsigned votes = __ballot_sync(0xFFFFFFFFu, here);
  if (threadIdx.x % 32 == 0 && votes)
    atomicAdd(occupied, static_cast<unsigned long long>(__popc(votes)));
}

__global__ void cells_kernel(const std::uint64_t* __restrict__ counts, std::size_t n,
                             std::uint64_t* __restrict__ slots, std::uint64_t* __restrict__ out,
                             std::size_t cap, unsigned long long* __restrict__ found) {
  const std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n || !counts[i]) return;
  const unsigned long long k = atomicAdd(found, 1ull);
  if (k < cap) {
    slots[k] = i;
    out[k] = counts[i];
  }
}

unsigned grid_for(std::size_t n) {
  return static_cast<unsigned>(std::max<std::size_t>(1, (n + kThreads - 1) / kThreads));
}

template <class T>
class device_backend {
 public:
  device_backend(const T* x, std::size_t n, int low, std::size_t max_cells, cudaStream_t s)
      : x_(x),
        n_(n),
        low_(low),
        cap_(max_cells),
        s_(s),
        sms_(detail::device_attribute(cudaDevAttrMultiProcessorCount)) {}

  void scan(detail::scan_words& w) {
    device_buffer d(sizeof(detail::scan_words), s_);
    auto* dw = d.as<detail::scan_words>();
    cuda_check(cudaMemsetAsync(dw, 0, sizeof(detail::scan_words), s_), "memset");
    cuda_check(cudaMemsetAsync(&dw->min_key, 0xFF, sizeof(std::uint64_t), s_), "memset");
    if (n_) {
      const std::size_t per = detail::scan_chunk_values(n_, sms_);
      const auto blocks =
          static_cast<unsigned>(std::min<std::size_t>((n_ + per - 1) / per, std::size_t(sms_)));
      const int optin = detail::device_attribute(cudaDevAttrMaxSharedMemoryPerBlockOptin);
      const bool shared = static_cast<std::size_t>(optin) >= kScanShared && !small_shared_memory();
      device_buffer scratch(shared ? 0 : std::size_t(blocks) * kScanShared, s_);
      if (shared)
        cuda_check(cudaFuncSetAttribute(scan_kernel<T>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        static_cast<int>(kScanShared)),
                   "cudaFuncSetAttribute");
      detail::clear_launch_error();
      scan_kernel<T><<<blocks, kScanThreads, shared ? kScanShared : 0, s_>>>(
          x_, n_, per, low_, dw, scratch.as<std::uint64_t>());
      cuda_check(cudaGetLastError(), "value grid scan launch");
    }
    cuda_check(cudaMemcpyAsync(&w, dw, sizeof w, cudaMemcpyDeviceToHost, s_), "download");
    cuda_check(cudaStreamSynchronize(s_), "cudaStreamSynchronize");
  }

  void dense(const std::vector<std::uint64_t>& parents, int p, int s,
             const std::vector<std::uint64_t>& marks, std::vector<std::uint64_t>& occupied) {
    s_level_ = s;
    const std::size_t levels = static_cast<std::size_t>(p - s);
    size0_ = parents.size() << (p - s);
    // Level k (size size0 >> k) at offset size0 * (2 - 2^(1 - k)): all below 2 * size0.
    counts_ = std::make_unique<device_buffer>(2 * size0_ * sizeof(std::uint64_t), s_);
    marks_ = std::make_unique<device_buffer>(2 * size0_, s_);
    device_buffer d_parents(parents.size() * sizeof(std::uint64_t), s_);
    device_buffer d_marks(marks.size() * sizeof(std::uint64_t), s_);
    device_buffer d_occupied(levels * sizeof(unsigned long long), s_);
    upload(d_parents, parents);
    upload(d_marks, marks);
    cuda_check(cudaMemsetAsync(counts_->p, 0, size0_ * sizeof(std::uint64_t), s_), "memset");
    cuda_check(cudaMemsetAsync(marks_->p, 0, size0_, s_), "memset");
    cuda_check(cudaMemsetAsync(d_occupied.p, 0, levels * sizeof(unsigned long long), s_), "memset");
    detail::clear_launch_error();
    const unsigned blocks =
        static_cast<unsigned>(std::min<std::size_t>(grid_for(n_), std::size_t(sms_) * 16));
    dense_kernel<T><<<blocks, kThreads, 0, s_>>>(x_, n_, d_parents.as<std::uint64_t>(),
                                                 static_cast<std::uint32_t>(parents.size()), p, s,
                                                 level_counts(0));
    if (!marks.empty())
      mark_kernel<<<grid_for(marks.size()), kThreads, 0, s_>>>(d_marks.as<std::uint64_t>(),
                                                               marks.size(), level_marks(0));
    auto* occ = d_occupied.as<unsigned long long>();
    level_kernel<<<grid_for(size0_), kThreads, 0, s_>>>(level_counts(0), level_marks(0), size0_,
                                                        nullptr, nullptr, occ);
    for (std::size_t k = 1; k < levels; ++k) {
      const std::size_t half = size0_ >> k;
      level_kernel<<<grid_for(half), kThreads, 0, s_>>>(
          level_counts(k - 1), level_marks(k - 1), half, level_counts(k), level_marks(k), occ + k);
    }
    cuda_check(cudaGetLastError(), "value grid dense launch");
    occupied.resize(levels);
    std::vector<unsigned long long> host(levels);
    cuda_check(cudaMemcpyAsync(host.data(), occ, levels * sizeof(unsigned long long),
                               cudaMemcpyDeviceToHost, s_),
               "download");
    cuda_check(cudaStreamSynchronize(s_), "cudaStreamSynchronize");
    std::copy(host.begin(), host.end(), occupied.begin());
  }

  void cells(int t, std::vector<std::uint64_t>& slots, std::vector<std::uint64_t>& counts) {
    const std::size_t k = static_cast<std::size_t>(t - s_level_), size = size0_ >> k;
    device_buffer d_slots(cap_ * sizeof(std::uint64_t), s_);
    device_buffer d_counts(cap_ * sizeof(std::uint64_t), s_);
    device_buffer d_found(sizeof(unsigned long long), s_);
    cuda_check(cudaMemsetAsync(d_found.p, 0, sizeof(unsigned long long), s_), "memset");
    detail::clear_launch_error();
    cells_kernel<<<grid_for(size), kThreads, 0, s_>>>(
        level_counts(k), size, d_slots.as<std::uint64_t>(), d_counts.as<std::uint64_t>(), cap_,
        d_found.as<unsigned long long>());
    cuda_check(cudaGetLastError(), "value grid cells launch");
    unsigned long long found = 0;
    cuda_check(cudaMemcpyAsync(&found, d_found.p, sizeof found, cudaMemcpyDeviceToHost, s_),
               "download");
    cuda_check(cudaStreamSynchronize(s_), "cudaStreamSynchronize");
    // The level search asks only for levels whose occupied cells fit max_cells.
    if (found > cap_) throw std::logic_error("value grid: more counted cells than max_cells");
    std::vector<std::uint64_t> s(found), c(found);
    if (found) {
      cuda_check(cudaMemcpyAsync(s.data(), d_slots.p, found * sizeof(std::uint64_t),
                                 cudaMemcpyDeviceToHost, s_),
                 "download");
      cuda_check(cudaMemcpyAsync(c.data(), d_counts.p, found * sizeof(std::uint64_t),
                                 cudaMemcpyDeviceToHost, s_),
                 "download");
      cuda_check(cudaStreamSynchronize(s_), "cudaStreamSynchronize");
    }
    // Found in any order: sorted by slot, which is key order.
    std::vector<std::size_t> order(found);
    for (std::size_t i = 0; i < found; ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return s[a] < s[b]; });
    slots.resize(found);
    counts.resize(found);
    for (std::size_t i = 0; i < found; ++i) {
      slots[i] = s[order[i]];
      counts[i] = c[order[i]];
    }
  }

 private:
  std::size_t offset(std::size_t k) const { return 2 * size0_ - (2 * size0_ >> k); }
  std::uint64_t* level_counts(std::size_t k) const {
    return counts_->as<std::uint64_t>() + offset(k);
  }
  std::uint8_t* level_marks(std::size_t k) const { return marks_->as<std::uint8_t>() + offset(k); }

  template <class U>
  void upload(device_buffer& d, const std::vector<U>& v) {
    if (!v.empty())
      cuda_check(cudaMemcpyAsync(d.p, v.data(), v.size() * sizeof(U), cudaMemcpyHostToDevice, s_),
                 "upload");
  }

  const T* x_;
  std::size_t n_;
  int low_;
  std::size_t cap_;
  cudaStream_t s_;
  int sms_;
  int s_level_ = 0;
  std::size_t size0_ = 0;
  // The dense levels of the last pass, kept for cells().
  std::unique_ptr<device_buffer> counts_, marks_;
};

}  // namespace

value_summary value_grid::update_summarized_device(const array_view& values,
                                                   std::uintptr_t stream) {
  cudaStream_t s = reinterpret_cast<cudaStream_t>(stream);
  return visit_dtype(values, [&](const auto* x) {
    using T = std::remove_cv_t<std::remove_pointer_t<decltype(x)>>;
    const int low = std::is_same_v<T, float> ? 29 : 0;
    device_backend<T> backend(x, values.size, low, max_cells_, s);
    return value_grid_levels::run(*this, backend, low);
  });
}

}  // namespace driftcore
