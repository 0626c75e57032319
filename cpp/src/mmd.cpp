// MMD permutation sums and the median heuristic: threads over tile rows, one copy of
// the tile code per instruction set (AVX-512, AVX2, baseline) chosen at run time.
#include "driftcore/mmd.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "avx512.hpp"
#include "driftcore/cancel.hpp"
#include "driftcore/common.hpp"
#include "driftcore/threading.hpp"
#include "mmd_random.hpp"
#include "mmd_tiles.hpp"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define DC_MMD_MULTI_ISA 1
#include <immintrin.h>
#endif

namespace driftcore {
namespace mmd_base {
#include "mmd_tile_impl.inc"
}  // namespace mmd_base

#ifdef DC_MMD_MULTI_ISA
#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace mmd_avx2 {
#include "mmd_tile_impl.inc"
}  // namespace mmd_avx2
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512vl,avx2,fma")
namespace mmd_avx512 {
#define DC_MMD_AVX512 1
#include "mmd_tile_impl.inc"
#undef DC_MMD_AVX512
}  // namespace mmd_avx512
#pragma GCC pop_options
#endif

namespace {

using detail::kTile;
using detail::mmd_pass;
using detail::mmd_scratch;
using detail::tile_row_out;

using tile_row_fn = void (*)(const mmd_pass&, std::size_t, mmd_scratch&, const tile_row_out&);
using median_row_fn = void (*)(const mmd_pass&, std::size_t, mmd_scratch&, std::uint32_t*, double*,
                               std::uint64_t, std::uint64_t, std::vector<double>*);

using bracket_row_fn = void (*)(const mmd_pass&, std::size_t, mmd_scratch&, double, double,
                                std::uint64_t*, double*, std::vector<double>*);  // tally[3]

struct isa_table {
  tile_row_fn tile_row;
  median_row_fn median_row;
  bracket_row_fn bracket_row;
};

// Asked on each pass: set_simd() may have changed since the last.
isa_table isa() {
#ifdef DC_MMD_MULTI_ISA
  switch (detail::simd()) {
    case detail::simd_level::avx512_fma:
      return {&mmd_avx512::tile_row, &mmd_avx512::median_row, &mmd_avx512::bracket_row};
    case detail::simd_level::avx2_fma:
      return {&mmd_avx2::tile_row, &mmd_avx2::median_row, &mmd_avx2::bracket_row};
    case detail::simd_level::portable:
      break;
  }
#endif
  return {&mmd_base::tile_row, &mmd_base::median_row, &mmd_base::bracket_row};
}

// Run body(worker, tile_row) over tile rows 0..nb-1, handed out one at a time (rows
// hold nb - I tiles each, so a static split would be uneven). Results are written per
// tile row, so who computed a row never matters.
template <class Body>
void for_tile_rows(std::size_t nb, int threads, Body&& body) {
  std::atomic<std::size_t> next{0};
  const int workers = range_count(nb, 1, threads);
  parallel_ranges(static_cast<std::size_t>(workers), 1, workers,
                  [&](int, std::size_t wb, std::size_t we) {
                    for (std::size_t w = wb; w < we; ++w)
                      for (std::size_t I = next.fetch_add(1); I < nb; I = next.fetch_add(1)) {
                        throw_if_cancelled();
                        body(static_cast<int>(w), I);
                      }
                  });
}

mmd_pass make_pass(const double* z, std::size_t N, std::size_t d) {
  mmd_pass job{};
  job.z = z;
  job.N = N;
  job.d = d;
  job.nb = (N + kTile - 1) / kTile;
  return job;
}

}  // namespace

void mmd_permutation_masks(std::size_t n, std::size_t m, std::size_t permutations,
                           std::uint64_t seed, std::uint64_t* masks, int threads) {
  const std::size_t N = n + m, ncols = permutations + 1, words = mmd_mask_words(ncols);
  std::fill(masks, masks + N * words, std::uint64_t(0));
  for (std::size_t i = 0; i < n; ++i) masks[i * words] |= 1u;  // column 0: identity
  if (permutations == 0 || n == 0) return;
  parallel_ranges(permutations, 1, threads, [&](int, std::size_t b, std::size_t e) {
    std::vector<std::uint64_t> keys(N), sorted(N);
    for (std::size_t q = b; q < e; ++q) {
      throw_if_cancelled();
      const std::size_t p = q + 1;
      const std::uint64_t base = detail::perm_base(seed, p);
      for (std::size_t i = 0; i < N; ++i) keys[i] = detail::perm_key(base, i);
      sorted = keys;
      std::nth_element(sorted.begin(), sorted.begin() + (n - 1), sorted.end());
      const std::uint64_t cut = sorted[n - 1];  // n-th smallest key
      std::size_t below = 0;
      for (std::size_t i = 0; i < N; ++i) below += keys[i] < cut;
      std::size_t ties_left = n - below;  // equal keys go to x in index order
      const std::uint64_t bit = std::uint64_t(1) << (p & 63);
      for (std::size_t i = 0; i < N; ++i) {
        const bool in_x = keys[i] < cut || (keys[i] == cut && ties_left > 0);
        if (keys[i] == cut && ties_left > 0) --ties_left;
        if (in_x) __atomic_fetch_or(&masks[i * words + (p >> 6)], bit, __ATOMIC_RELAXED);
      }
    }
  });
}

mmd_sums mmd_permutation_sums(const double* z, std::size_t N, std::size_t d,
                              const mmd_kernel_spec& kernel, const std::uint64_t* masks,
                              std::size_t ncols, int threads) {
  if (N == 0 || d == 0) throw invalid_input("mmd: empty sample (N = 0 or d = 0)");
  if (ncols == 0) throw invalid_input("mmd: no mask columns");
  if (kernel.bandwidths.empty()) throw invalid_input("mmd: no bandwidth");
  std::vector<double> scales;
  for (double s : kernel.bandwidths) {
    if (!(s > 0.0) || !std::isfinite(s))
      throw invalid_input("mmd: bandwidth must be positive and finite, got " + std::to_string(s));
    scales.push_back(kernel.kind == mmd_kernel::rbf ? 1.0 / (2.0 * s * s) : 1.0 / s);
  }
  const std::size_t words = mmd_mask_words(ncols);
  mmd_sums out;
  out.a.assign(ncols, 0.0);
  out.c.assign(ncols, 0.0);
  // Columns in chunks of kChunk: S as doubles costs 8 bytes a point and column, so a
  // chunk bounds memory whatever the permutation count; each chunk recomputes the
  // kernel tiles (cheap next to the products once there are many columns).
  constexpr std::size_t kChunk = 128;
  for (std::size_t c0 = 0; c0 < ncols; c0 += kChunk) {
    const std::size_t cw = std::min(kChunk, ncols - c0);
    mmd_pass job = make_pass(z, N, d);
    job.masks = masks;
    job.words = words;
    job.ncols = cw;
    job.pp = (cw + 3) / 4 * 4;
    job.kind = kernel.kind == mmd_kernel::rbf ? 0 : 1;
    job.scales = scales.data();
    job.nscales = scales.size();

    // The chunk's 0/1 columns of S as doubles, N x pp: the tile products read them
    // directly instead of unpacking bits for every tile.
    std::vector<double> sm(N * job.pp);
    parallel_ranges(N, 4096, threads, [&](int, std::size_t b, std::size_t e) {
      for (std::size_t i = b; i < e; ++i)
        for (std::size_t q = 0; q < job.pp; ++q) {
          const std::size_t p = c0 + q;
          sm[i * job.pp + q] =
              q < cw ? static_cast<double>((masks[i * words + (p >> 6)] >> (p & 63)) & 1u) : 0.0;
        }
    });
    job.s = sm.data();

    std::vector<double> a(job.nb * cw), c(job.nb * cw), t(job.nb);
    const int workers = range_count(job.nb, 1, threads);
    std::vector<mmd_scratch> scratch(static_cast<std::size_t>(workers));
    for (auto& sc : scratch) sc.reserve(d, job.pp);
    const tile_row_fn row = isa().tile_row;
    for_tile_rows(job.nb, workers, [&](int w, std::size_t I) {
      row(job, I, scratch[static_cast<std::size_t>(w)],
          tile_row_out{&a[I * cw], &c[I * cw], &t[I]});
    });
    double total = 0.0;
    for (std::size_t I = 0; I < job.nb; ++I) {  // fixed order: thread-count independent
      for (std::size_t q = 0; q < cw; ++q) {
        out.a[c0 + q] += a[I * cw + q];
        out.c[c0 + q] += c[I * cw + q];
      }
      total += t[I];
    }
    if (c0 == 0) out.t = total;
  }
  return out;
}

namespace {

double squared_distance(const double* a, const double* b, std::size_t d) {
  double s = 0.0;
  for (std::size_t k = 0; k < d; ++k) s += (a[k] - b[k]) * (a[k] - b[k]);
  return s;
}

// Middle values at 0-based ranks r_lo <= r_hi, given `below` values under the kept ones.
bool select_middle(std::vector<double>& vals, std::uint64_t below, std::uint64_t r_lo,
                   std::uint64_t r_hi, double& out) {
  if (r_lo < below || r_hi - below >= vals.size()) return false;
  const std::size_t q_lo = r_lo - below, q_hi = r_hi - below;
  std::nth_element(vals.begin(), vals.begin() + q_lo, vals.end());
  const double v_lo = vals[q_lo];
  std::nth_element(vals.begin() + q_lo, vals.begin() + q_hi, vals.end());
  out = (v_lo + vals[q_hi]) / 2.0;  // numpy's median of an even count
  return true;
}

// One worker's buffers for the median passes (distance tiles only).
std::vector<mmd_scratch> distance_scratch(int workers, std::size_t d) {
  std::vector<mmd_scratch> scratch(static_cast<std::size_t>(workers));
  for (auto& s : scratch) s.reserve_distances(d);
  return scratch;
}

// Fallback (rarely needed): two passes with a histogram on the float bits.
mmd_distance_summary median_by_histogram(const double* z, std::size_t N, std::size_t d,
                                         int threads) {
  mmd_pass job = make_pass(z, N, d);
  const int workers = range_count(job.nb, 1, threads);
  std::vector<mmd_scratch> scratch = distance_scratch(workers, d);
  const median_row_fn row = isa().median_row;

  // Pass 1: bucket counts (integers: exact in any order) and per-row sums.
  std::vector<std::vector<std::uint32_t>> hist(static_cast<std::size_t>(workers),
                                               std::vector<std::uint32_t>(detail::kBuckets, 0));
  std::vector<double> sums(job.nb, 0.0);
  for_tile_rows(job.nb, workers, [&](int w, std::size_t I) {
    row(job, I, scratch[static_cast<std::size_t>(w)], hist[static_cast<std::size_t>(w)].data(),
        &sums[I], 0, 0, nullptr);
  });
  std::vector<std::uint64_t> total(detail::kBuckets, 0);
  for (const auto& h : hist)
    for (std::size_t k = 0; k < detail::kBuckets; ++k) total[k] += h[k];
  hist.clear();
  hist.shrink_to_fit();
  const std::uint64_t pairs = std::uint64_t(N) * (N - 1) / 2;
  const std::uint64_t r_lo = (pairs - 1) / 2, r_hi = pairs / 2;  // 0-based middle ranks
  std::uint64_t seen = 0, key_lo = 0, key_hi = 0, below_lo = 0;
  bool got_lo = false;
  for (std::size_t k = 0; k < detail::kBuckets; ++k) {
    if (!got_lo && seen + total[k] > r_lo) {
      key_lo = k;
      below_lo = seen;
      got_lo = true;
    }
    if (seen + total[k] > r_hi) {
      key_hi = k;
      break;
    }
    seen += total[k];
  }

  // Pass 2: keep only the values in the buckets holding the middle ranks, then select.
  std::vector<std::vector<double>> keep(static_cast<std::size_t>(workers));
  for_tile_rows(job.nb, workers, [&](int w, std::size_t I) {
    row(job, I, scratch[static_cast<std::size_t>(w)], nullptr, nullptr, key_lo, key_hi,
        &keep[static_cast<std::size_t>(w)]);
  });
  std::vector<double> vals;
  for (auto& k : keep) vals.insert(vals.end(), k.begin(), k.end());
  mmd_distance_summary out;
  if (!select_middle(vals, below_lo, r_lo, r_hi, out.median_sq))
    throw std::logic_error("mmd median: selection bucket mismatch");
  double s = 0.0;
  for (double v : sums) s += v;
  out.mean_sq = s / static_cast<double>(pairs);
  return out;
}

}  // namespace

mmd_distance_summary mmd_median_sq_distance(const double* z, std::size_t N, std::size_t d,
                                            int threads, bool histogram_only) {
  if (N < 2) throw invalid_input("mmd median: needs at least 2 points");
  if (N > 65536) throw invalid_input("mmd median: exact selection is limited to 65536 points");
  if (d == 0) throw invalid_input("mmd median: d = 0");
  const std::uint64_t pairs = std::uint64_t(N) * (N - 1) / 2;
  const std::uint64_t r_lo = (pairs - 1) / 2, r_hi = pairs / 2;

  // Bracket the median with the quantiles of a fixed pseudo-random sample of pairs
  // (+-6 standard errors), then one pass counts the values below the bracket and keeps
  // those inside: exact, with memory O(bracket). Missed brackets fall back to the
  // histogram method.
  if (histogram_only) return median_by_histogram(z, N, d, threads);
  double lo = -1.0, hi = std::numeric_limits<double>::infinity();
  constexpr std::size_t kSample = std::size_t(1) << 16;
  if (pairs > 64 * kSample) {
    std::vector<double> sample(kSample);
    for (std::size_t s = 0; s < kSample; ++s) {
      const std::uint64_t h = detail::splitmix_mix(0x6d6d64u + s);
      std::size_t i = static_cast<std::size_t>(h % N),
                  j = static_cast<std::size_t>((h >> 32) % (N - 1));
      if (j >= i) ++j;
      sample[s] = squared_distance(z + i * d, z + j * d, d);
    }
    std::sort(sample.begin(), sample.end());
    const double q = (static_cast<double>(r_lo) + 0.5) / static_cast<double>(pairs);
    const double delta = 6.0 * std::sqrt(q * (1.0 - q) / kSample) + 2.0 / kSample;
    const double qlo = (q - delta) * kSample, qhi = (q + delta) * kSample;
    if (qlo >= 0.0) lo = sample[static_cast<std::size_t>(qlo)];
    if (qhi < kSample - 1.0) hi = sample[static_cast<std::size_t>(qhi) + 1];
  }
  mmd_pass job = make_pass(z, N, d);
  const int workers = range_count(job.nb, 1, threads);
  std::vector<mmd_scratch> scratch = distance_scratch(workers, d);
  std::vector<std::uint64_t> tally(3 * static_cast<std::size_t>(workers), 0);
  std::vector<std::vector<double>> keep(static_cast<std::size_t>(workers));
  std::vector<double> sums(job.nb, 0.0);
  const bracket_row_fn row = isa().bracket_row;
  for_tile_rows(job.nb, workers, [&](int w, std::size_t I) {
    const auto wi = static_cast<std::size_t>(w);
    row(job, I, scratch[wi], lo, hi, &tally[3 * wi], &sums[I], &keep[wi]);
  });
  std::uint64_t below = 0, at_lo = 0, at_hi = 0;
  std::vector<double> inside;
  for (std::size_t w = 0; w < keep.size(); ++w) {
    below += tally[3 * w];
    at_lo += tally[3 * w + 1];
    at_hi += tally[3 * w + 2];
    inside.insert(inside.end(), keep[w].begin(), keep[w].end());
  }
  if (lo == hi) at_hi = 0;  // counted twice
  // Rank r -> value: below the bracket (missed), at lo, inside (selected), at hi, above.
  bool ok = true;
  auto value_at = [&](std::uint64_t r) {
    if (r < below) return ok = false, 0.0;
    r -= below;
    if (r < at_lo) return lo;
    r -= at_lo;
    if (r < inside.size()) {
      std::nth_element(inside.begin(), inside.begin() + static_cast<std::ptrdiff_t>(r),
                       inside.end());
      return inside[r];
    }
    r -= inside.size();
    if (r < at_hi) return hi;
    return ok = false, 0.0;
  };
  const double v_lo = value_at(r_lo), v_hi = value_at(r_hi);
  if (!ok) return median_by_histogram(z, N, d, threads);
  mmd_distance_summary out;
  out.median_sq = (v_lo + v_hi) / 2.0;  // numpy's median of an even count
  double s = 0.0;
  for (double v : sums) s += v;  // tile-row order: thread-count independent
  out.mean_sq = s / static_cast<double>(pairs);
  return out;
}

}  // namespace driftcore
