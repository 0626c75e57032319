#include "driftcore/two_sample.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "driftcore/threading.hpp"
#include <vector>


namespace driftcore {
namespace {

// Neumaier's compensated sum: the Wasserstein integral adds many terms of mixed size.
struct compensated_sum {
  double s = 0.0, c = 0.0;
  void add(double x) noexcept {
    double t = s + x;
    c += std::abs(s) >= std::abs(x) ? (s - t) + x : (x - t) + s;
    s = t;
  }
  double value() const noexcept { return s + c; }
};

// x when keep, else +inf, without a branch (compilers turn a ternary into one).
inline double or_inf(bool keep, double x) noexcept {
  std::uint64_t u, inf;
  const double pinf = INFINITY;
  std::memcpy(&u, &x, 8);
  std::memcpy(&inf, &pinf, 8);
  const std::uint64_t m = std::uint64_t(0) - static_cast<std::uint64_t>(keep);
  u = (u & m) | (inf & ~m);
  double r;
  std::memcpy(&r, &u, 8);
  return r;
}

// Walk the union of two sorted samples by distinct value. cdf_a(i) is F_a after the
// first i values of a; it is evaluated only after every value equal to v is consumed.
template <class CdfA, class CdfB>
two_sample_stats walk(const double* a, std::size_t na, CdfA cdf_a, const double* b,
                      std::size_t nb, CdfB cdf_b) {
  two_sample_stats r;
  r.n_a = na;
  r.n_b = nb;
  if (na == 0 || nb == 0) {
    r.ks = r.wasserstein = NAN;
    return r;
  }
  std::size_t i = 0, j = 0;
  double d = 0.0;
  compensated_sum w;
  bool w_inf = false;
  while (i < na || j < nb) {
    const double v = (j >= nb || (i < na && a[i] <= b[j])) ? a[i] : b[j];
    while (i < na && a[i] <= v) ++i;
    while (j < nb && b[j] <= v) ++j;
    const double diff = cdf_a(i) - cdf_b(j);
    d = std::max(d, std::abs(diff));
    if (diff != 0.0 && (i < na || j < nb)) {
      const double next = (j >= nb || (i < na && a[i] <= b[j])) ? a[i] : b[j];
      const double gap = next - v;
      if (std::isinf(gap)) w_inf = true; else w.add(std::abs(diff) * gap);
    }
  }
  r.ks = d;
  r.wasserstein = w_inf ? INFINITY : w.value();
  return r;
}

}  // namespace

namespace {

// One stretch of the unit-weight walk: global indices [i, i_end) of a and
// [j, j_end) of b, cut at a value boundary so that equal values never straddle two
// segments. F_a - F_b = (i nb - j na) / (na nb) has an exact integer numerator.
struct segment {
  std::size_t i, j, i_end, j_end;
  std::int64_t best = -1;
  double d = 0.0;
  compensated_sum w;
  bool w_inf = false;
};

void walk_segment(const double* a, std::size_t na, const double* b, std::size_t nb,
                  segment& sg) {
  const double fa = static_cast<double>(na), fb = static_cast<double>(nb);
  const std::int64_t sa = static_cast<std::int64_t>(nb), sb = static_cast<std::int64_t>(na);
  std::size_t i = sg.i, j = sg.j;
  const std::size_t ie = sg.i_end, je = sg.j_end;
  std::int64_t best = -1;
  double d = 0.0, block = 0.0;
  unsigned in_block = 0;
  while (i < ie || j < je) {
    const double v = (j >= je || (i < ie && a[i] <= b[j])) ? a[i] : b[j];
    while (i < ie && a[i] <= v) ++i;  // every value equal to v, on both sides
    while (j < je && b[j] <= v) ++j;
    const std::int64_t num = static_cast<std::int64_t>(i) * sa - static_cast<std::int64_t>(j) * sb;
    const std::int64_t mag = num < 0 ? -num : num;
    if (mag >= best) {
      // The float difference exactly as scipy computes it, where the exact one peaks.
      const double f = std::abs(static_cast<double>(i) / fa - static_cast<double>(j) / fb);
      d = mag > best ? f : std::max(d, f);
      best = mag;
    }
    if (mag != 0 && (i < na || j < nb)) {
      // The next value may lie in the next segment: read the global arrays.
      const double next = (j >= nb || (i < na && a[i] <= b[j])) ? a[i] : b[j];
      const double gap = next - v;
      if (std::isinf(gap)) {
        sg.w_inf = true;
      } else {
        block += static_cast<double>(mag) * gap;
        if (++in_block == 1024) {  // plain sums in short blocks, compensated across
          sg.w.add(block);
          block = 0.0;
          in_block = 0;
        }
      }
    }
  }
  sg.w.add(block);
  sg.best = best;
  sg.d = d;
}

constexpr int kSegments = 8;  // fixed, so results do not depend on the thread count

}  // namespace

two_sample_stats two_sample_sorted(const double* a, std::size_t na, const double* b,
                                   std::size_t nb, int threads) {
  auto check = [](const double* x, std::size_t n, const char* name) {
    bool bad = false;
    for (std::size_t i = 0; i < n; ++i) bad |= std::isnan(x[i]) | (i && x[i] < x[i - 1]);
    if (bad) throw invalid_input(std::string(name) + " must be sorted ascending and free of NaN");
  };
  check(a, na, "first sample");
  check(b, nb, "second sample");
  two_sample_stats r;
  r.n_a = na;
  r.n_b = nb;
  if (na == 0 || nb == 0) {
    r.ks = r.wasserstein = NAN;
    return r;
  }
  const double fa = static_cast<double>(na), fb = static_cast<double>(nb);
  if (na > (std::uint64_t(1) << 31) || nb > (std::uint64_t(1) << 31)) {
    // The integer numerator could overflow: the general walk.
    return walk(
        a, na, [fa](std::size_t i) { return static_cast<double>(i) / fa; },
        b, nb, [fb](std::size_t j) { return static_cast<double>(j) / fb; });
  }
  // Cut both samples at the same values (quantiles of a) into a fixed number of
  // segments, walked in parallel and combined in order: the same result for any
  // thread count.
  std::vector<segment> segs;
  std::size_t pi = 0, pj = 0;
  for (int k = 1; k <= kSegments; ++k) {
    std::size_t qi = na, qj = nb;
    if (k < kSegments) {
      const double cut = a[na * static_cast<std::size_t>(k) / kSegments];
      qi = static_cast<std::size_t>(std::lower_bound(a, a + na, cut) - a);
      qj = static_cast<std::size_t>(std::lower_bound(b, b + nb, cut) - b);
      qi = std::max(qi, pi);
      qj = std::max(qj, pj);
    }
    segs.push_back(segment{pi, pj, qi, qj, -1, 0.0, compensated_sum{}, false});
    pi = qi;
    pj = qj;
  }
  parallel_ranges(segs.size(), 1, threads, [&](int, std::size_t s0, std::size_t s1) {
    for (std::size_t k = s0; k < s1; ++k) walk_segment(a, na, b, nb, segs[k]);
  });
  std::int64_t best = -1;
  double d = 0.0;
  compensated_sum w;
  bool w_inf = false;
  for (auto& sg : segs) {
    if (sg.best > best) d = sg.d;
    else if (sg.best == best) d = std::max(d, sg.d);
    best = std::max(best, sg.best);
    w.add(sg.w.value());
    w_inf |= sg.w_inf;
  }
  r.ks = d;
  r.wasserstein = w_inf ? INFINITY : w.value() / (fa * fb);
  return r;
}

two_sample_stats two_sample_weighted(const double* a, const double* ca, std::size_t na,
                                     const double* b, const double* cb, std::size_t nb) {
  const double ta = na ? ca[na - 1] : 0.0, tb = nb ? cb[nb - 1] : 0.0;
  return walk(
      a, na, [=](std::size_t i) { return i ? ca[i - 1] / ta : 0.0; },
      b, nb, [=](std::size_t j) { return j ? cb[j - 1] / tb : 0.0; });
}

}  // namespace driftcore
