// Histogram of device-resident values. Counts are integers, accumulated in per-warp
// shared-memory copies (fewer collisions on popular bins) and added to global
// 64-bit counters, so they equal the CPU kernel's counts exactly: the binning rule is
// the same code (binning.hpp), compiled here without FMA contraction. Weight sums are
// doubles added atomically (one shared copy a block, then the global sums): their last
// bits depend on the order in which threads add.
#include <cuda_runtime.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "../src/binning.hpp"
#include "cuda_util.cuh"
#include "driftcore/histogram.hpp"

namespace driftcore {
namespace {

using detail::cuda_check;
using detail::device_buffer;

constexpr int kThreads = 256;
constexpr std::size_t kSharedBytes = 32 * 1024;

// Each value's slot, four loads in flight a thread: a grid-stride loop of one load a
// trip keeps too few bytes moving to approach the copy bandwidth.
template <class T, class Binner, class F>
__device__ void each_slot(const T* __restrict__ x, std::size_t n, const Binner& bin, F&& f) {
  constexpr unsigned kLoads = 4;
  const std::size_t threads = std::size_t(gridDim.x) * blockDim.x;
  for (std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += kLoads * threads) {
    T v[kLoads];
#pragma unroll
    for (unsigned k = 0; k < kLoads; ++k) {
      const std::size_t at = i + k * threads;
      v[k] = at < n ? x[at] : T(0);
    }
#pragma unroll
    for (unsigned k = 0; k < kLoads; ++k)
      if (i + k * threads < n) f(bin(static_cast<double>(v[k])));
  }
}

// One add for the warp when its active lanes share a slot (a constant, all-NaN or
// out-of-range run would otherwise queue 32 adds on one counter), else one a lane.
template <class C>
__device__ void add_slot(C* counters, std::size_t slot) {
  const unsigned active = __activemask();
  int same = 0;
  __match_all_sync(active, static_cast<unsigned long long>(slot), &same);
  if (!same)
    atomicAdd(&counters[slot], C(1));
  else if (static_cast<int>(threadIdx.x & 31) == __ffs(active) - 1)
    atomicAdd(&counters[slot], static_cast<C>(__popc(active)));
}

template <class T, class Binner>
__global__ void count_shared(const T* __restrict__ x, std::size_t n, Binner bin,
                             std::uint32_t nslots, std::uint32_t copies,
                             unsigned long long* __restrict__ out) {
  extern __shared__ unsigned int sh[];
  for (std::uint32_t i = threadIdx.x; i < nslots * copies; i += blockDim.x) sh[i] = 0;
  __syncthreads();
  unsigned int* mine = sh + (threadIdx.x / 32 % copies) * nslots;
  each_slot(x, n, bin, [&](std::size_t slot) { add_slot(mine, slot); });
  __syncthreads();
  for (std::uint32_t s = threadIdx.x; s < nslots; s += blockDim.x) {
    unsigned long long total = 0;
    for (std::uint32_t c = 0; c < copies; ++c) total += sh[c * nslots + s];
    if (total) atomicAdd(&out[s], total);
  }
}

template <class T, class Binner>
__global__ void count_global(const T* __restrict__ x, std::size_t n, Binner bin,
                             unsigned long long* __restrict__ out) {
  each_slot(x, n, bin, [&](std::size_t slot) { add_slot(out, slot); });
}

// Weighted: one shared copy of the counts and the weight sums a block (32-bit counts
// and doubles: 12 bytes a slot), added to the global ones when the block is done.
template <class T, class W, class Binner>
__global__ void weigh_shared(const T* __restrict__ x, const W* __restrict__ w, std::size_t n,
                             Binner bin, std::uint32_t nslots, unsigned long long* __restrict__ out,
                             double* __restrict__ sums) {
  extern __shared__ double shw[];
  unsigned int* counts = reinterpret_cast<unsigned int*>(shw + nslots);
  for (std::uint32_t i = threadIdx.x; i < nslots; i += blockDim.x) {
    shw[i] = 0.0;
    counts[i] = 0;
  }
  __syncthreads();
  const std::size_t stride = std::size_t(gridDim.x) * blockDim.x;
  for (std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const std::size_t s = bin(static_cast<double>(x[i]));
    atomicAdd(&counts[s], 1u);
    atomicAdd(&shw[s], static_cast<double>(w[i]));
  }
  __syncthreads();
  for (std::uint32_t s = threadIdx.x; s < nslots; s += blockDim.x) {
    if (counts[s]) {
      atomicAdd(&out[s], static_cast<unsigned long long>(counts[s]));
      atomicAdd(&sums[s], shw[s]);
    }
  }
}

template <class T, class W, class Binner>
__global__ void weigh_global(const T* __restrict__ x, const W* __restrict__ w, std::size_t n,
                             Binner bin, unsigned long long* __restrict__ out,
                             double* __restrict__ sums) {
  const std::size_t stride = std::size_t(gridDim.x) * blockDim.x;
  for (std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const std::size_t s = bin(static_cast<double>(x[i]));
    atomicAdd(&out[s], 1ull);
    atomicAdd(&sums[s], static_cast<double>(w[i]));
  }
}

template <class T>
void upload(device_buffer& d, const std::vector<T>& v, cudaStream_t s) {
  if (!v.empty())
    cuda_check(cudaMemcpyAsync(d.p, v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice, s),
               "upload");
}

// Slot counts (and weight sums) of device-resident values, copied to the host arrays.
void device_slot_counts(const histogram& h, const array_view& values, const array_view* weights,
                        std::uintptr_t stream_handle, std::uint64_t* slots, double* wslots) {
  cudaStream_t s = reinterpret_cast<cudaStream_t>(stream_handle);
  const std::size_t n = values.size, nbins = h.nbins(), nslots = nbins + 3;
  const auto& edges = h.edges();
  // Uniform bins are computed from the range alone: no tables to upload.
  const bool tables = !h.uniform() && n;
  device_buffer d_edges(tables ? edges.size() * sizeof(double) : 0, s);
  device_buffer d_lo(tables ? h.cell_lo().size() * sizeof(std::uint32_t) : 0, s);
  device_buffer d_hi(tables ? h.cell_hi().size() * sizeof(std::uint32_t) : 0, s);
  device_buffer d_out(nslots * sizeof(unsigned long long), s);
  device_buffer d_sums(weights ? nslots * sizeof(double) : 0, s);
  if (tables) {
    upload(d_edges, edges, s);
    upload(d_lo, h.cell_lo(), s);
    upload(d_hi, h.cell_hi(), s);
  }
  cuda_check(cudaMemsetAsync(d_out.p, 0, nslots * sizeof(unsigned long long), s), "memset");
  if (weights) cuda_check(cudaMemsetAsync(d_sums.p, 0, nslots * sizeof(double), s), "memset");

  const int sms = detail::device_attribute(cudaDevAttrMultiProcessorCount);
  // Enough blocks to fill the card, and few enough that each block's 32-bit shared
  // counters cannot overflow.
  std::size_t blocks = std::size_t(sms) * 8;
  blocks = std::max(blocks, n / (std::size_t(1) << 30) + 1);
  blocks = std::min(blocks, std::max<std::size_t>(1, (n + kThreads - 1) / kThreads));

  const double lo = edges.front(), hi = edges.back();
  auto launch = [&](auto bin) {
    visit_dtype(values, [&](auto* x) {
      if (weights) {
        const std::size_t shared = nslots * (sizeof(double) + sizeof(unsigned int));
        visit_dtype(*weights, [&](auto* w) {
          detail::clear_launch_error();
          if (shared <= kSharedBytes)
            weigh_shared<<<blocks, kThreads, shared, s>>>(
                x, w, n, bin, static_cast<std::uint32_t>(nslots), d_out.as<unsigned long long>(),
                d_sums.as<double>());
          else
            weigh_global<<<blocks, kThreads, 0, s>>>(x, w, n, bin, d_out.as<unsigned long long>(),
                                                     d_sums.as<double>());
        });
      } else if (nslots * sizeof(unsigned int) <= kSharedBytes) {
        const std::uint32_t copies = static_cast<std::uint32_t>(
            std::min<std::size_t>(kThreads / 32, kSharedBytes / (nslots * sizeof(unsigned int))));
        detail::clear_launch_error();
        count_shared<<<blocks, kThreads, copies * nslots * sizeof(unsigned int), s>>>(
            x, n, bin, static_cast<std::uint32_t>(nslots), copies, d_out.as<unsigned long long>());
      } else {
        detail::clear_launch_error();
        count_global<<<blocks, kThreads, 0, s>>>(x, n, bin, d_out.as<unsigned long long>());
      }
    });
  };
  if (n) {
    if (h.uniform()) {
      launch(detail::uniform_binner{nbins, lo, hi, static_cast<double>(nbins) / (hi - lo),
                                    (hi - lo) / static_cast<double>(nbins)});
    } else {
      launch(detail::edges_binner{d_edges.as<double>(), nbins, lo, hi, h.cell_scale(),
                                  d_lo.as<std::uint32_t>(), d_hi.as<std::uint32_t>(),
                                  h.cell_lo().size()});
    }
    cuda_check(cudaGetLastError(), "histogram kernel launch");
  }
  std::vector<unsigned long long> host(nslots);
  cuda_check(cudaMemcpyAsync(host.data(), d_out.p, nslots * sizeof(unsigned long long),
                             cudaMemcpyDeviceToHost, s),
             "download");
  if (weights && wslots)
    cuda_check(
        cudaMemcpyAsync(wslots, d_sums.p, nslots * sizeof(double), cudaMemcpyDeviceToHost, s),
        "download");
  cuda_check(cudaStreamSynchronize(s), "cudaStreamSynchronize");
  for (std::size_t i = 0; i < nslots; ++i) slots[i] = host[i];
}

}  // namespace

void histogram::update_device(const array_view& values, const array_view* weights,
                              std::uintptr_t stream) {
  if (weights && weights->size != values.size)
    throw invalid_input("values and weights differ in length");
  if (weights && !weighted()) throw invalid_input("weights given to an unweighted histogram");
  std::vector<std::uint64_t> counts(nbins() + 3);
  std::vector<double> sums(weights ? nbins() + 3 : 0);
  prepare_for(values.size);
  device_slot_counts(*this, values, weights, stream, counts.data(),
                     weights ? sums.data() : nullptr);
  add_slot_counts(counts.data(), weights ? sums.data() : nullptr);
}

}  // namespace driftcore
