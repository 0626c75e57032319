#include "driftcore/two_sample.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

#include "driftcore/cancel.hpp"

namespace driftcore {
namespace {

// Merge steps between cancellation checks (2^16: well under a millisecond).
constexpr std::size_t kCheckMask = (std::size_t(1) << 16) - 1;

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

// A power of two that brings the largest finite magnitude of two sorted samples to
// about 1, when it is so large that a difference of two values could overflow (the
// distance between -1e308 and 1e308 is finite in the result, but not in doubles).
// Scaling by a power of two is exact; the result is divided by it at the end.
double overflow_scale(const double* a, std::size_t na, const double* b, std::size_t nb) {
  double big = 0.0;
  for (const double x :
       {na ? a[0] : 0.0, na ? a[na - 1] : 0.0, nb ? b[0] : 0.0, nb ? b[nb - 1] : 0.0})
    if (std::isfinite(x)) big = std::max(big, std::abs(x));
  return big > 0x1p500 ? std::ldexp(1.0, -std::min(std::ilogb(big), 1000)) : 1.0;
}

// The sample sizes, with both statistics NaN (what an empty side gives).
two_sample_stats sizes_only(std::size_t na, std::size_t nb) noexcept {
  two_sample_stats r;
  r.n_a = na;
  r.n_b = nb;
  r.ks = r.wasserstein = NAN;
  return r;
}

// Walk the union of two sorted samples by distinct value. cdf_a(i) is F_a after the
// first i values of a; it is evaluated only after every value equal to v is consumed.
template <class CdfA, class CdfB>
two_sample_stats walk(const double* a, std::size_t na, CdfA cdf_a, const double* b, std::size_t nb,
                      CdfB cdf_b) {
  two_sample_stats r = sizes_only(na, nb);
  if (na == 0 || nb == 0) return r;
  std::size_t i = 0, j = 0;
  double d = 0.0;
  compensated_sum w;
  bool w_inf = false;
  const double scale = overflow_scale(a, na, b, nb);
  std::size_t steps = 0;
  while (i < na || j < nb) {
    if ((++steps & kCheckMask) == 0) throw_if_cancelled();
    const double v = (j >= nb || (i < na && a[i] <= b[j])) ? a[i] : b[j];
    while (i < na && a[i] <= v) ++i;
    while (j < nb && b[j] <= v) ++j;
    const double diff = cdf_a(i) - cdf_b(j);
    d = std::max(d, std::abs(diff));
    if (diff != 0.0 && (i < na || j < nb)) {
      const double next = (j >= nb || (i < na && a[i] <= b[j])) ? a[i] : b[j];
      const double gap = next * scale - v * scale;
      if (std::isinf(gap))
        w_inf = true;
      else
        w.add(std::abs(diff) * gap);
    }
  }
  r.ks = d;
  r.wasserstein = w_inf ? INFINITY : w.value() / scale;
  return r;
}

// KS on unit weights. F_a - F_b = (i nb - j na) / (na nb): the walk tracks the exact
// integer numerator and evaluates i / na - j / nb in floating point, as scipy does,
// only where the numerator reaches its maximum, so the statistic is bit-identical.
// The merge is branch-free (the side to advance is unpredictable on interleaved data);
// a difference is only evaluated after the last of a run of equal values.
double ks_unit(const double* a, std::size_t na, const double* b, std::size_t nb) {
  const std::int64_t sa = static_cast<std::int64_t>(nb), sb = static_cast<std::int64_t>(na);
  const double fa = static_cast<double>(na), fb = static_cast<double>(nb);
  std::size_t i = 0, j = 0;
  std::int64_t num = 0, best = -1;
  double d = 0.0;
  auto evaluate = [&](std::int64_t mag) {
    const double f = std::abs(static_cast<double>(i) / fa - static_cast<double>(j) / fb);
    d = mag > best ? f : std::max(d, f);
    best = mag;
  };
  double v = 0.0;
  std::size_t steps = 0;
  while (i < na && j < nb) {
    if ((++steps & kCheckMask) == 0) throw_if_cancelled();  // a predictable branch
    __builtin_prefetch(a + i + 128);  // each side advances at a data-dependent pace
    __builtin_prefetch(b + j + 128);
    const double x = a[i], y = b[j];
    const bool take_a = x <= y;
    v = std::min(x, y);
    i += take_a;
    j += !take_a;
    num += static_cast<std::int64_t>(take_a) * (sa + sb) - sb;
    const double next =
        std::min(or_inf(i < na, a[i < na ? i : na - 1]), or_inf(j < nb, b[j < nb ? j : nb - 1]));
    const std::int64_t mag = num < 0 ? -num : num;
    if ((next != v) & (mag >= best)) evaluate(mag);
  }
  // One side is used up; finish the run of values equal to v on the other, evaluate
  // once: from there |F_a - F_b| only shrinks towards 0.
  while (i < na && a[i] <= v) ++i;
  while (j < nb && b[j] <= v) ++j;
  num = static_cast<std::int64_t>(i) * sa - static_cast<std::int64_t>(j) * sb;
  const std::int64_t mag = num < 0 ? -num : num;
  if (mag >= best) evaluate(mag);
  return d;
}

// Wasserstein-1 on unit weights, in the quantile domain: the integral of |F_a - F_b|
// over x equals the integral of |Q_a(u) - Q_b(u)| over u in [0, 1], and the
// quantile functions step at i / na and j / nb, a merge known without reading the
// data. Steps are counted in units of 1 / (na nb); terms add in blocks, compensated.
double wasserstein_unit(const double* a, std::size_t na, const double* b, std::size_t nb) {
  const std::uint64_t total = static_cast<std::uint64_t>(na) * nb;
  std::uint64_t pos = 0, next_a = nb, next_b = na;
  std::size_t i = 0, j = 0;
  compensated_sum w;
  double block = 0.0;
  unsigned in_block = 0, blocks = 0;
  bool infinite = false;
  const double scale = overflow_scale(a, na, b, nb);
  while (pos < total) {
    const std::uint64_t nxt = std::min(next_a, next_b);
    __builtin_prefetch(a + i + 128);
    __builtin_prefetch(b + j + 128);
    const double x = a[i], y = b[j];
    const double gap = x == y ? 0.0 : std::abs(x * scale - y * scale);  // equal infinities: no gap
    infinite |= std::isinf(gap);
    block += static_cast<double>(nxt - pos) * (std::isinf(gap) ? 0.0 : gap);
    const bool step_a = nxt == next_a, step_b = nxt == next_b;
    i += step_a;
    j += step_b;
    next_a += step_a ? nb : 0;
    next_b += step_b ? na : 0;
    pos = nxt;
    if (++in_block == 1024) {
      if ((++blocks & 63) == 0) throw_if_cancelled();
      w.add(block);
      block = 0.0;
      in_block = 0;
    }
  }
  w.add(block);
  return infinite ? INFINITY : w.value() / static_cast<double>(total) / scale;
}

}  // namespace

two_sample_stats two_sample_sorted(const double* a, std::size_t na, const double* b, std::size_t nb,
                                   bool want_ks, bool want_wasserstein) {
  auto check = [](const double* x, std::size_t n, const char* name) {
    // !(x[i-1] <= x[i]) catches both disorder and NaN, in one vectorizable compare.
    bool bad = n > 0 && std::isnan(x[0]);
    for (std::size_t b = 1; b < n; b += kCheckMask + 1) {
      throw_if_cancelled();
      const std::size_t e = std::min(n, b + kCheckMask + 1);
      for (std::size_t i = b; i < e; ++i) bad |= !(x[i - 1] <= x[i]);
    }
    if (bad) throw invalid_input(std::string(name) + " must be sorted ascending and free of NaN");
  };
  check(a, na, "first sample");
  check(b, nb, "second sample");
  two_sample_stats r = sizes_only(na, nb);
  if (na == 0 || nb == 0) return r;
  if (na > (std::uint64_t(1) << 31) || nb > (std::uint64_t(1) << 31)) {
    // na nb could overflow the integer kernels: the general walk.
    const double fa = static_cast<double>(na), fb = static_cast<double>(nb);
    return walk(
        a, na, [fa](std::size_t i) { return static_cast<double>(i) / fa; }, b, nb,
        [fb](std::size_t j) { return static_cast<double>(j) / fb; });
  }
  r.ks = want_ks ? ks_unit(a, na, b, nb) : NAN;
  r.wasserstein = want_wasserstein ? wasserstein_unit(a, na, b, nb) : NAN;
  return r;
}

two_sample_stats two_sample_weighted(const double* a, const double* ca, std::size_t na,
                                     const double* b, const double* cb, std::size_t nb) {
  const double ta = na ? ca[na - 1] : 0.0, tb = nb ? cb[nb - 1] : 0.0;
  return walk(
      a, na, [=](std::size_t i) { return i ? ca[i - 1] / ta : 0.0; }, b, nb,
      [=](std::size_t j) { return j ? cb[j - 1] / tb : 0.0; });
}

}  // namespace driftcore
