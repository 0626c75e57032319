// Random Fourier features: threads over fixed row blocks, one copy of the kernel per
// instruction set (AVX-512, AVX2, baseline) chosen at run time.
#include "driftcore/rff.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "avx512.hpp"
#include "driftcore/cancel.hpp"
#include "driftcore/common.hpp"
#include "driftcore/threading.hpp"
#include "host_device.hpp"

namespace driftcore {
// The baseline copy fuses only where the target has FMA instructions (std::fma in
// software would cost ten times the kernel).
#if defined(__FMA__) || defined(__aarch64__)
#define DC_FMA(a, b, c) std::fma(a, b, c)
#else
#define DC_FMA(a, b, c) ((a) * (b) + (c))
#endif
namespace rff_base {
#include "rff_impl.inc"
}  // namespace rff_base
#undef DC_FMA
#define DC_FMA(a, b, c) std::fma(a, b, c)

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define DC_RFF_MULTI_ISA 1
#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace rff_avx2 {
#include "rff_impl.inc"
}  // namespace rff_avx2
#pragma GCC pop_options
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512vl,avx2,fma")
namespace rff_avx512 {
#include "rff_impl.inc"
}  // namespace rff_avx512
#pragma GCC pop_options
#endif
#undef DC_FMA

namespace {
using rows_fn = void (*)(const double*, std::size_t, std::size_t, std::size_t, const double*,
                         std::size_t, double*, double*, double*, double*, double*);
// Asked on each call: set_simd() may have changed since the last.
rows_fn pick() {
#ifdef DC_RFF_MULTI_ISA
  switch (detail::simd()) {
    case detail::simd_level::avx512_fma:
      return &rff_avx512::rff_rows;
    case detail::simd_level::avx2_fma:
      return &rff_avx2::rff_rows;
    case detail::simd_level::portable:
      break;
  }
#endif
  return &rff_base::rff_rows;
}
}  // namespace

void rff_accumulate(const double* x, std::size_t n, std::size_t d, const double* w, std::size_t F,
                    double* cos_sum, double* sin_sum, int threads) {
  if (d == 0 || F == 0) throw invalid_input("rff: d and the number of features must be >= 1");
  if (n == 0) return;
  const rows_fn rows = pick();
  // Block size from n alone (at most 256 partials): thread-count independent sums.
  const std::size_t block = std::max<std::size_t>(1024, (n + 255) / 256 + 3) / 4 * 4;
  const std::size_t nblocks = (n + block - 1) / block;
  std::vector<double> partial(nblocks * 2 * F, 0.0);
  // w packed by blocks of 32 features: block b holds w[k][32 b .. 32 b + 31] for k < d.
  const std::size_t nfb = (F + 31) / 32;
  std::vector<double> wp(nfb * d * 32, 0.0);
  for (std::size_t fb = 0; fb < nfb; ++fb)
    for (std::size_t k = 0; k < d; ++k)
      for (std::size_t f = 0; f < 32 && fb * 32 + f < F; ++f)
        wp[(fb * d + k) * 32 + f] = w[k * F + fb * 32 + f];
  // Rows between cancellation checks: about 2^16 feature evaluations (well under a
  // millisecond), a multiple of 4 so each chunk adds to the sums in the same order as
  // one call over the whole block.
  const std::size_t chunk = std::max<std::size_t>(4, (std::size_t(1) << 16) / (F * d) / 4 * 4);
  parallel_ranges(nblocks, 1, threads, [&](int, std::size_t bb, std::size_t be) {
    std::vector<double> proj(128), sv(128), cv(128);  // 4 rows x 32 features
    for (std::size_t blk = bb; blk < be; ++blk) {
      const std::size_t b = blk * block, e = std::min(n, b + block);
      double* cs = partial.data() + blk * 2 * F;
      for (std::size_t r = b; r < e; r += chunk) {
        throw_if_cancelled();
        rows(x, r, std::min(e, r + chunk), d, wp.data(), F, cs, cs + F, proj.data(), sv.data(),
             cv.data());
      }
    }
  });
  // The caller's sums change only from here on, after the last check.
  for (std::size_t blk = 0; blk < nblocks; ++blk)
    for (std::size_t f = 0; f < F; ++f) {
      cos_sum[f] += partial[blk * 2 * F + f];
      sin_sum[f] += partial[blk * 2 * F + F + f];
    }
}

void rff_uniforms(std::uint64_t seed, std::uint64_t stream, double* out,
                  std::size_t count) noexcept {
  const std::uint64_t base = detail::splitmix_mix(seed * kGoldenGamma + stream);
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint64_t h = detail::splitmix_mix(base + i * 0xD1B54A32D192ED03ull);
    out[i] = (static_cast<double>(h >> 11) + 0.5) * 0x1p-53;
  }
}

}  // namespace driftcore
