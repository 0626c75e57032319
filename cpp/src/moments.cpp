#include "driftcore/moments.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <type_traits>
#include <vector>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define DRIFTCORE_X86 1
#endif

#include "avx512.hpp"
#include "column_scan.hpp"
#include "driftcore/cancel.hpp"
#include "driftcore/threading.hpp"

namespace driftcore {

void moments::merge(const moments& o) noexcept {
  nan += o.nan;
  pos_inf += o.pos_inf;
  neg_inf += o.neg_inf;
  if (o.count == 0) return;
  if (count == 0) {
    count = o.count;
    min = o.min;
    max = o.max;
    mean = o.mean;
    m2 = o.m2;
    return;
  }
  const double na = static_cast<double>(count), nb = static_cast<double>(o.count);
  const double n = na + nb, delta = o.mean - mean;
  // Weighted form: cannot overflow when both means are finite (delta can, near 1e308).
  const double merged = mean * (na / n) + o.mean * (nb / n);
  m2 += o.m2 + delta * delta * (na * nb / n);
  mean = merged;
  count += o.count;
  min = std::min(min, o.min);
  max = std::max(max, o.max);
}

namespace {
constexpr std::size_t kBlock = 1 << 14;

// The definition of a block's sums, whatever the instruction set: value i of the block
// goes to lane i % kLanes; each lane adds its finite values in order (and keeps their
// min and max); the lanes combine by a fixed pairwise tree. The AVX-512 loop below
// does the same IEEE operations lane for lane, so it gives the same bits, only
// faster: one running sum would chain every add on the last (about 4 cycles each).
constexpr std::size_t kLanes = 32;

inline bool finite(double v) noexcept {
  return std::fabs(v) <= 1.7976931348623157e308;
}

struct lanes {
  double sum[kLanes], lo[kLanes], hi[kLanes];
  std::uint64_t count = 0;
  lanes() {
    for (std::size_t j = 0; j < kLanes; ++j) sum[j] = 0.0, lo[j] = INFINITY, hi[j] = -INFINITY;
  }
};

double lane_tree(double* a) noexcept {
  for (std::size_t w = kLanes / 2; w >= 1; w /= 2)
    for (std::size_t j = 0; j < w; ++j) a[j] += a[j + w];
  return a[0];
}

// x[0, n) into lanes 0, 1, ... (the caller starts at a multiple of kLanes). The min and
// max are written as vminpd / vmaxpd compute them, so that signed zeros agree too.
template <class T>
void add_lanes(lanes& a, const T* x, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t j = i % kLanes;
    const double v = static_cast<double>(x[i]);
    if (!finite(v)) continue;
    a.sum[j] += v;
    ++a.count;
    a.lo[j] = a.lo[j] < v ? a.lo[j] : v;
    a.hi[j] = a.hi[j] > v ? a.hi[j] : v;
  }
}

template <class T>
double lane_m2(const T* x, std::size_t n, double mean) {
  double m2[kLanes] = {};
  for (std::size_t i = 0; i < n; ++i) {
    const double v = static_cast<double>(x[i]), d = v - mean;
    if (finite(v)) m2[i % kLanes] += d * d;
  }
  return lane_tree(m2);
}

#ifdef DRIFTCORE_X86
template <class T>
__attribute__((target("avx512f,avx512dq"))) void add_lanes_avx512(lanes& a, const T* x,
                                                                  std::size_t n) {
  constexpr std::size_t V = kLanes / 8;
  __m512d sum[V], lo[V], hi[V];
  for (std::size_t k = 0; k < V; ++k) {
    sum[k] = _mm512_loadu_pd(a.sum + 8 * k);
    lo[k] = _mm512_loadu_pd(a.lo + 8 * k);
    hi[k] = _mm512_loadu_pd(a.hi + 8 * k);
  }
  const __m512d big = _mm512_set1_pd(1.7976931348623157e308);
  std::uint64_t count = 0;
  const std::size_t full = n - n % kLanes;
  for (std::size_t i = 0; i < full; i += kLanes) {
    __builtin_prefetch(reinterpret_cast<const char*>(x + i) + 8192);
    for (std::size_t k = 0; k < V; ++k) {
      const __m512d v = detail::load8_f64(x + i + 8 * k);
      const __mmask8 f = _mm512_cmp_pd_mask(_mm512_abs_pd(v), big, _CMP_LE_OQ);
      sum[k] = _mm512_mask_add_pd(sum[k], f, sum[k], v);
      lo[k] = _mm512_mask_min_pd(lo[k], f, lo[k], v);
      hi[k] = _mm512_mask_max_pd(hi[k], f, hi[k], v);
      count += static_cast<std::uint64_t>(__builtin_popcount(f));
    }
  }
  for (std::size_t k = 0; k < V; ++k) {
    _mm512_storeu_pd(a.sum + 8 * k, sum[k]);
    _mm512_storeu_pd(a.lo + 8 * k, lo[k]);
    _mm512_storeu_pd(a.hi + 8 * k, hi[k]);
  }
  a.count += count;
  add_lanes(a, x + full, n - full);
}

template <class T>
__attribute__((target("avx512f,avx512dq"))) double lane_m2_avx512(const T* x, std::size_t n,
                                                                  double mean) {
  constexpr std::size_t V = kLanes / 8;
  __m512d m2[V];
  for (std::size_t k = 0; k < V; ++k) m2[k] = _mm512_setzero_pd();
  const __m512d big = _mm512_set1_pd(1.7976931348623157e308), mu = _mm512_set1_pd(mean);
  const std::size_t full = n - n % kLanes;
  for (std::size_t i = 0; i < full; i += kLanes) {
    for (std::size_t k = 0; k < V; ++k) {
      const __m512d v = detail::load8_f64(x + i + 8 * k), d = _mm512_sub_pd(v, mu);
      const __mmask8 f = _mm512_cmp_pd_mask(_mm512_abs_pd(v), big, _CMP_LE_OQ);
      m2[k] = _mm512_mask_add_pd(m2[k], f, m2[k], _mm512_mul_pd(d, d));
    }
  }
  double out[kLanes];
  for (std::size_t k = 0; k < V; ++k) _mm512_storeu_pd(out + 8 * k, m2[k]);
  for (std::size_t i = full; i < n; ++i) {
    const double v = static_cast<double>(x[i]), d = v - mean;
    if (finite(v)) out[i - full] += d * d;
  }
  return lane_tree(out);
}

#else
template <class T>
void add_lanes_avx512(lanes& a, const T* x, std::size_t n) {
  add_lanes(a, x, n);
}
template <class T>
double lane_m2_avx512(const T* x, std::size_t n, double mean) {
  return lane_m2(x, n, mean);
}
#endif

template <class T>
constexpr bool kFloat = std::is_same_v<T, float> || std::is_same_v<T, double>;

template <class T>
moments block_moments(const T* x, std::size_t b, std::size_t e) {
  const T* p = x + b;
  const std::size_t n = e - b;
  bool wide = false;
  if constexpr (kFloat<T>) wide = detail::use_avx512();
  lanes a;
  if constexpr (kFloat<T>) {
    if (wide) add_lanes_avx512(a, p, n);
  }
  if (!wide) add_lanes(a, p, n);
  moments m;
  m.count = a.count;
  if (m.count != n) {  // something not finite: classify it (rare, so a plain loop)
    for (std::size_t i = 0; i < n; ++i) {
      const double v = static_cast<double>(p[i]);
      if (std::isnan(v))
        ++m.nan;
      else if (v == INFINITY)
        ++m.pos_inf;
      else if (v == -INFINITY)
        ++m.neg_inf;
    }
  }
  if (m.count == 0) return m;
  // Two passes over a block that sits in cache: the mean first, then exact deviations.
  m.mean = lane_tree(a.sum) / static_cast<double>(m.count);
  if (!std::isfinite(m.mean)) {
    // The plain sum overflowed (values near 1e308): a running mean cannot.
    double mean = 0.0;
    std::uint64_t k = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double v = static_cast<double>(p[i]);
      if (std::isfinite(v)) mean += (v - mean) / static_cast<double>(++k);
    }
    m.mean = mean;
  }
  m.m2 = 0.0;
  if constexpr (kFloat<T>) {
    if (wide) m.m2 = lane_m2_avx512(p, n, m.mean);
  }
  if (!wide) m.m2 = lane_m2(p, n, m.mean);
  m.min = a.lo[0];
  m.max = a.hi[0];
  for (std::size_t j = 1; j < kLanes; ++j) {
    m.min = m.min < a.lo[j] ? m.min : a.lo[j];
    m.max = m.max > a.hi[j] ? m.max : a.hi[j];
  }
  return m;
}
}  // namespace

power_sums compute_power_sums(const array_view& values, int threads) {
  const std::size_t n = values.size;
  const int workers = range_count(n, kBlock, value_threads(n, threads, 16));
  std::vector<detail::column_scanner> parts(static_cast<std::size_t>(workers));
  visit_dtype(values, [&](auto* x) {
    parallel_ranges(
        n, kBlock, value_threads(n, threads, 16), [&](int w, std::size_t b, std::size_t e) {
          for (std::size_t at = b; at < e; at += kBlock) {
            throw_if_cancelled();
            parts[static_cast<std::size_t>(w)].add(x + at, std::min(e, at + kBlock) - at);
          }
        });
  });
  // Integer sums: the same whatever the split.
  detail::exact_limbs total;
  for (auto& p : parts) {
    p.sums.propagate();
    total.add(p.sums);
  }
  return total.result();
}

moments compute_moments(const array_view& values, int threads) {
  const std::size_t n = values.size, nblocks = (n + kBlock - 1) / kBlock;
  std::vector<moments> parts(nblocks);
  visit_dtype(values, [&](auto* x) {
    parallel_ranges(n, kBlock, value_threads(n, threads), [&](int, std::size_t b, std::size_t e) {
      for (std::size_t blk = b / kBlock; blk * kBlock < e; ++blk) {
        throw_if_cancelled();  // one load per 2^14 values
        parts[blk] = block_moments(x, blk * kBlock, std::min(e, (blk + 1) * kBlock));
      }
    });
  });
  moments total;
  for (const auto& p : parts) total.merge(p);
  return total;
}

}  // namespace driftcore
