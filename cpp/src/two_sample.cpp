#include "driftcore/two_sample.hpp"

#include <cmath>
#include <thread>
#include <vector>

#include "driftcore/radix_sort.hpp"
#include "driftcore/threading.hpp"

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

two_sample_stats two_sample_raw(const array_view& a, const array_view& b, int threads) {
  threads = resolve_threads(threads);
  std::vector<double> sa, sb;
  if (threads >= 2) {
    // One sort per half of the threads, at the same time.
    const int ta = threads / 2, tb = threads - ta;
    std::thread worker([&] { sa = sorted_finite_or_inf(a, ta); });
    try {
      sb = sorted_finite_or_inf(b, tb);
    } catch (...) {
      worker.join();
      throw;
    }
    worker.join();
  } else {
    sa = sorted_finite_or_inf(a, 1);
    sb = sorted_finite_or_inf(b, 1);
  }
  const double na = static_cast<double>(sa.size()), nb = static_cast<double>(sb.size());
  return walk(
      sa.data(), sa.size(), [na](std::size_t i) { return static_cast<double>(i) / na; },
      sb.data(), sb.size(), [nb](std::size_t j) { return static_cast<double>(j) / nb; });
}

two_sample_stats two_sample_weighted(const double* a, const double* ca, std::size_t na,
                                     const double* b, const double* cb, std::size_t nb) {
  const double ta = na ? ca[na - 1] : 0.0, tb = nb ? cb[nb - 1] : 0.0;
  return walk(
      a, na, [=](std::size_t i) { return i ? ca[i - 1] / ta : 0.0; },
      b, nb, [=](std::size_t j) { return j ? cb[j - 1] / tb : 0.0; });
}

}  // namespace driftcore
