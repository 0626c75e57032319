// MMD permutation sums on the GPU: the CPU kernel's algorithm (mmd.cpp) with 64 x 64
// shared-memory tiles. Persistent blocks walk the upper-triangle tiles in a fixed
// order and keep float64 partials per block, summed on the host in block order, so the
// result does not depend on scheduling. Distances and kernel values are float32; every
// sum of kernel values is float64: the statistic is a small difference of large sums,
// and float32 tile sums put it 1e-5 (relative) off the CPU's on the device tests' data.
// src/mmd_device_replay.cpp repeats these operations on the CPU (tests/test_mmd_replay.py);
// keep the two in step. Not yet run on hardware: parity tests in tests/test_mmd_gpu.py.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "../src/mmd_params.hpp"
#include "cuda_util.cuh"
#include "driftcore/common.hpp"
#include "driftcore/mmd.hpp"

namespace driftcore {
namespace {

using detail::cuda_check;
using detail::device_buffer;

constexpr int kT = 64;         // tile rows
constexpr int kDK = 32;        // dimensions per shared-memory chunk
constexpr int kPC = 64;        // permutation columns per product chunk
constexpr int kThreads = 256;  // 16 x 16 threads, each 4 x 4 outputs
constexpr int kMaxWords = 16;  // ncols <= 1024
using kernel_params = detail::mmd_params;

__device__ __forceinline__ float kernel_value(float d2, const kernel_params& kp) {
  const float r = kp.kind == 0 ? d2 : sqrtf(d2);
  float k = 0.0f;
  for (int b = 0; b < kp.nscales; ++b) k += expf(-r * kp.scales[b]);
  return k / static_cast<float>(kp.nscales);
}

// Tile index t of the upper triangle (row-major, J >= I) -> (I, J).
__device__ __forceinline__ void tile_of(unsigned long long t, unsigned long long nb,
                                        unsigned long long& I, unsigned long long& J) {
  // offset(I) = I * nb - I (I - 1) / 2; solve the quadratic, then fix rounding.
  const double b = 2.0 * double(nb) + 1.0;
  long long i = static_cast<long long>((b - sqrt(b * b - 8.0 * double(t))) / 2.0);
  if (i < 0) i = 0;
  auto off = [nb](long long r) {
    return static_cast<unsigned long long>(r) * nb -
           static_cast<unsigned long long>(r) * static_cast<unsigned long long>(r - 1) / 2;
  };
  while (i > 0 && off(i) > t) --i;
  while (static_cast<unsigned long long>(i + 1) < nb && off(i + 1) <= t) ++i;
  I = static_cast<unsigned long long>(i);
  J = I + (t - off(i));
}

__global__ void __launch_bounds__(kThreads)
    mmd_tiles(const float* __restrict__ z, unsigned long long N, int d,
              const unsigned long long* __restrict__ masks, int words, int ncols, kernel_params kp,
              double* __restrict__ partial /* grid x (2 ncols + 1) */) {
  __shared__ __align__(16) float kt[kT][kT + 4];  // kt[j][i] = k(z_i, z_j), zero diagonal / padding
  __shared__ __align__(16) union {
    struct {
      float zi[kT][kDK + 1], zj[kT][kDK + 1];
    } dist;
    float s[kT][kPC + 4];  // s[j][p] = x-side bit of point J0 + j in column p
  } sh;
  // float64 sums; the rows' mask words are read from global memory (L1-cached), which
  // keeps the block's static shared memory under 48 KiB.
  __shared__ double rs[kT], cs[kT], red[16][kPC];

  const int tid = threadIdx.x, tx = tid % 16, ty = tid / 16;
  const unsigned long long nb = (N + kT - 1) / kT, ntiles = nb * (nb + 1) / 2;
  double* pa = partial + std::size_t(blockIdx.x) * (2 * ncols + 1);
  double* pc = pa + ncols;
  double* pt = pc + ncols;

  for (unsigned long long t = blockIdx.x; t < ntiles; t += gridDim.x) {
    unsigned long long I, J;
    tile_of(t, nb, I, J);
    const unsigned long long i0 = I * kT, j0 = J * kT;
    const int ni = static_cast<int>(min(static_cast<unsigned long long>(kT), N - i0));
    const int nj = static_cast<int>(min(static_cast<unsigned long long>(kT), N - j0));
    const double w = I == J ? 1.0 : 2.0;

    // Squared distances: thread (ty, tx) owns rows i = 4 ty.., columns j = 4 tx...
    float acc[4][4] = {};
    for (int k0 = 0; k0 < d; k0 += kDK) {
      __syncthreads();
      for (int e = tid; e < kT * kDK; e += kThreads) {
        const int r = e / kDK, k = e % kDK;
        const bool kin = k0 + k < d;
        sh.dist.zi[r][k] = (r < ni && kin) ? z[(i0 + r) * d + k0 + k] : 0.0f;
        sh.dist.zj[r][k] = (r < nj && kin) ? z[(j0 + r) * d + k0 + k] : 0.0f;
      }
      __syncthreads();
#pragma unroll 4
      for (int k = 0; k < kDK; ++k) {
        float a[4], b[4];
#pragma unroll
        for (int q = 0; q < 4; ++q) {
          a[q] = sh.dist.zi[ty * 4 + q][k];
          b[q] = sh.dist.zj[tx * 4 + q][k];
        }
#pragma unroll
        for (int x = 0; x < 4; ++x)
#pragma unroll
          for (int y = 0; y < 4; ++y) {
            const float diff = a[x] - b[y];
            acc[x][y] = fmaf(diff, diff, acc[x][y]);
          }
      }
    }
#pragma unroll
    for (int x = 0; x < 4; ++x)
#pragma unroll
      for (int y = 0; y < 4; ++y) {
        const int i = ty * 4 + x, j = tx * 4 + y;
        const bool valid = i < ni && j < nj && !(I == J && i == j);
        kt[j][i] = valid ? kernel_value(acc[x][y], kp) : 0.0f;
      }
    // Bit p of row i's mask (0 past the tile's rows).
    const auto row_bit = [&](int i, int p) -> bool {
      return i < ni && ((__ldg(&masks[(i0 + i) * words + (p >> 6)]) >> (p & 63)) & 1ull);
    };
    __syncthreads();
    if (tid < kT) {
      double r = 0.0;
      for (int j = 0; j < kT; ++j) r += kt[j][tid];
      rs[tid] = r;
    } else if (tid < 2 * kT) {
      double c = 0.0;
      for (int i = 0; i < kT; ++i) c += kt[tid - kT][i];
      cs[tid - kT] = c;
    }
    __syncthreads();
    if (tid == 0) {
      double s = 0.0;
      for (int j = 0; j < kT; ++j) s += cs[j];
      pt[0] += w * s;
    }

    // Products K_IJ^T S_J for chunks of 64 permutation columns, folded with S_I.
    for (int p0 = 0; p0 < ncols; p0 += kPC) {
      __syncthreads();
      for (int e = tid; e < kT * kPC; e += kThreads) {
        const int j = e / kPC, p = p0 + e % kPC;
        float bit = 0.0f;
        if (j < nj && p < ncols)
          bit = float((masks[(j0 + j) * words + (p >> 6)] >> (p & 63)) & 1ull);
        sh.s[j][e % kPC] = bit;
      }
      __syncthreads();
      double g[4][4] = {};  // rows 4 ty.., columns p0 + 4 tx..
      for (int j = 0; j < nj; ++j) {
        const float4 kv = *reinterpret_cast<const float4*>(&kt[j][ty * 4]);
        const float4 sv = *reinterpret_cast<const float4*>(&sh.s[j][tx * 4]);
        const double kr[4] = {kv.x, kv.y, kv.z, kv.w}, sr[4] = {sv.x, sv.y, sv.z, sv.w};
#pragma unroll
        for (int x = 0; x < 4; ++x)
#pragma unroll
          for (int y = 0; y < 4; ++y) g[x][y] = fma(kr[x], sr[y], g[x][y]);
      }
#pragma unroll
      for (int y = 0; y < 4; ++y) {
        const int p = p0 + tx * 4 + y;
        double part = 0.0;
        if (p < ncols)
#pragma unroll
          for (int x = 0; x < 4; ++x)
            if (row_bit(ty * 4 + x, p)) part += g[x][y];
        red[ty][tx * 4 + y] = part;
      }
      __syncthreads();
      if (tid < kPC && p0 + tid < ncols) {
        const int p = p0 + tid;
        double a = 0.0, c = 0.0;
        for (int q = 0; q < 16; ++q) a += red[q][tid];
        for (int i = 0; i < kT; ++i)
          if (row_bit(i, p)) c += rs[i];
        if (I != J)
          for (int j = 0; j < kT; ++j) c += static_cast<double>(sh.s[j][tid]) * cs[j];
        pa[p] += w * a;
        pc[p] += c;
      }
    }
  }
}

// The sums of at most kMaxWords x 64 mask columns: one launch.
mmd_sums one_launch(const float* z, std::size_t N, std::size_t d, const kernel_params& kp,
                    const std::uint64_t* masks, std::size_t ncols, cudaStream_t s) {
  const std::size_t words = mmd_mask_words(ncols);
  const int sms = detail::device_attribute(cudaDevAttrMultiProcessorCount);
  const std::size_t nb = (N + kT - 1) / kT, ntiles = nb * (nb + 1) / 2;
  // Persistent blocks: as many as fit at once (one wave), each walking tiles t, t + grid..
  int per_sm = 0;
  cuda_check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, mmd_tiles, kThreads, 0),
             "occupancy");
  const int grid = static_cast<int>(
      std::min<std::size_t>(ntiles, std::size_t(sms) * std::size_t(std::max(per_sm, 1))));
  const std::size_t stride = 2 * ncols + 1;

  device_buffer d_masks(N * words * sizeof(std::uint64_t), s),
      d_part(grid * stride * sizeof(double), s);
  cuda_check(cudaMemcpyAsync(d_masks.p, masks, N * words * sizeof(std::uint64_t),
                             cudaMemcpyHostToDevice, s),
             "upload masks");
  cuda_check(cudaMemsetAsync(d_part.p, 0, grid * stride * sizeof(double), s), "memset");
  detail::clear_launch_error();
  mmd_tiles<<<grid, kThreads, 0, s>>>(
      z, N, static_cast<int>(d), static_cast<const unsigned long long*>(d_masks.p),
      static_cast<int>(words), static_cast<int>(ncols), kp, static_cast<double*>(d_part.p));
  cuda_check(cudaGetLastError(), "mmd kernel launch");
  std::vector<double> host(grid * stride);
  cuda_check(cudaMemcpyAsync(host.data(), d_part.p, host.size() * sizeof(double),
                             cudaMemcpyDeviceToHost, s),
             "download");
  cuda_check(cudaStreamSynchronize(s), "cudaStreamSynchronize");
  mmd_sums out;
  out.a.assign(ncols, 0.0);
  out.c.assign(ncols, 0.0);
  for (int b = 0; b < grid; ++b) {  // block order: deterministic
    const double* r = host.data() + b * stride;
    for (std::size_t p = 0; p < ncols; ++p) {
      out.a[p] += r[p];
      out.c[p] += r[ncols + p];
    }
    out.t += r[2 * ncols];
  }
  return out;
}

}  // namespace

mmd_sums mmd_permutation_sums_device(const float* z, std::size_t N, std::size_t d,
                                     const mmd_kernel_spec& kernel, const std::uint64_t* masks,
                                     std::size_t ncols, std::uintptr_t stream_handle) {
  if (N == 0 || d == 0) throw invalid_input("mmd: empty sample (N = 0 or d = 0)");
  if (ncols == 0) throw invalid_input("mmd: no mask column");
  const kernel_params kp = detail::mmd_device_params(kernel);
  cudaStream_t s = reinterpret_cast<cudaStream_t>(stream_handle);
  constexpr std::size_t kLaunchCols = 64 * kMaxWords;
  if (ncols <= kLaunchCols) return one_launch(z, N, d, kp, masks, ncols, s);
  // More columns than one launch holds: launches of 1,024 columns (whole mask words),
  // each recomputing the kernel values; t is the same in every one.
  const std::size_t words = mmd_mask_words(ncols);
  mmd_sums out;
  std::vector<std::uint64_t> part;
  for (std::size_t c0 = 0; c0 < ncols; c0 += kLaunchCols) {
    const std::size_t cnt = std::min(kLaunchCols, ncols - c0), cw = mmd_mask_words(cnt);
    part.assign(N * cw, 0);
    for (std::size_t i = 0; i < N; ++i)
      std::copy_n(masks + i * words + c0 / 64, cw, part.data() + i * cw);
    mmd_sums chunk = one_launch(z, N, d, kp, part.data(), cnt, s);
    out.a.insert(out.a.end(), chunk.a.begin(), chunk.a.end());
    out.c.insert(out.c.end(), chunk.c.begin(), chunk.c.end());
    if (c0 == 0) out.t = chunk.t;
  }
  return out;
}

}  // namespace driftcore
