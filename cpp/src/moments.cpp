#include "driftcore/moments.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "driftcore/threading.hpp"

namespace driftcore {

void moments::merge(const moments& o) noexcept {
  nan += o.nan;
  pos_inf += o.pos_inf;
  neg_inf += o.neg_inf;
  if (o.count == 0) return;
  if (count == 0) {
    count = o.count; min = o.min; max = o.max; mean = o.mean; m2 = o.m2;
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

template <class T>
moments block_moments(const T* x, std::size_t b, std::size_t e) {
  moments m;
  double sum = 0.0, lo = INFINITY, hi = -INFINITY;
  for (std::size_t i = b; i < e; ++i) {
    // An explicit prefetch: hardware prefetchers alone leave streaming loops waiting
    // on memory on some machines.
    if ((i & 7) == 0) __builtin_prefetch(reinterpret_cast<const char*>(x + i) + 8192);
    double v = static_cast<double>(x[i]);
    if (std::isfinite(v)) {
      ++m.count; sum += v; lo = std::min(lo, v); hi = std::max(hi, v);
    } else if (std::isnan(v)) {
      ++m.nan;
    } else if (v > 0) {
      ++m.pos_inf;
    } else {
      ++m.neg_inf;
    }
  }
  if (m.count == 0) return m;
  // Two passes over a block that sits in L1: the mean first, then exact deviations.
  m.mean = sum / static_cast<double>(m.count);
  if (!std::isfinite(m.mean)) {
    // The plain sum overflowed (values near 1e308): a running mean cannot.
    double mean = 0.0;
    std::uint64_t k = 0;
    for (std::size_t i = b; i < e; ++i) {
      const double v = static_cast<double>(x[i]);
      if (std::isfinite(v)) mean += (v - mean) / static_cast<double>(++k);
    }
    m.mean = mean;
  }
  double m2 = 0.0;
  for (std::size_t i = b; i < e; ++i) {
    double v = static_cast<double>(x[i]);
    if (std::isfinite(v)) m2 += (v - m.mean) * (v - m.mean);
  }
  m.m2 = m2; m.min = lo; m.max = hi;
  return m;
}
}  // namespace

moments compute_moments(const array_view& values, int threads) {
  const std::size_t n = values.size, nblocks = (n + kBlock - 1) / kBlock;
  std::vector<moments> parts(nblocks);
  visit_dtype(values, [&](auto* x) {
    parallel_ranges(n, kBlock, threads, [&](int, std::size_t b, std::size_t e) {
      for (std::size_t blk = b / kBlock; blk * kBlock < e; ++blk)
        parts[blk] = block_moments(x, blk * kBlock, std::min(e, (blk + 1) * kBlock));
    });
  });
  moments total;
  for (const auto& p : parts) total.merge(p);
  return total;
}

}  // namespace driftcore
