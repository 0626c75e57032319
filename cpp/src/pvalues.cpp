// p-values equal to scipy.stats' (see pvalues.hpp). The Kolmogorov part follows the
// branches of scipy.stats._ksstats._kolmogn (Simard and L'Ecuyer's choice of method by
// n and n d^2) and scipy.special.smirnov; the two-sample part follows
// scipy.stats.ks_2samp. Where scipy's arithmetic decides a branch (the exact
// two-sample method's fallback), the same operations are done in the same order.
#include "driftcore/pvalues.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace driftcore {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kLn2 = 0.69314718055994530942;
constexpr double kTwo128 = 0x1p128;
constexpr double kTwoMinus128 = 0x1p-128;
// exp() of anything below this is 0 even as a subnormal (cephes' MINLOG).
constexpr double kMinLog = -745.13321910194110842;

const double kLog2Pi = std::log(2.0 * kPi);
const double kSqrt2Pi = std::sqrt(2.0 * kPi);

inline double quiet_nan() {
  return std::numeric_limits<double>::quiet_NaN();
}

// np.clip(p, 0, 1): NaN stays NaN.
inline double clip01(double p) {
  return p < 0.0 ? 0.0 : (p > 1.0 ? 1.0 : p);
}

// np.round: halves go to the even neighbour, whatever the rounding mode.
double round_half_even(double v) {
  const double r = std::round(v);
  if (std::fabs(v - std::trunc(v)) == 0.5) return 2.0 * std::round(0.5 * v);
  return r;
}

// log(1 + u) - u for u > -1, to full relative precision also where it is tiny: with
// w = u / (2 + u), log(1 + u) = 2 atanh(w) and u = 2w / (1 - w), so
// log(1 + u) - u = -u w + 2 w^3 (1/3 + w^2/5 + w^4/7 + ...), |w| <= 1/3 below.
double log1pmx(double u) {
  if (std::fabs(u) > 0.5) return std::log1p(u) - u;
  const double w = u / (2.0 + u), w2 = w * w;
  double sum = 0.0, p = 1.0;
  for (int k = 1; k < 40; ++k) {
    sum += p / (2 * k + 1);
    p *= w2;
    if (p < 1e-18) break;
  }
  return -u * w + 2.0 * w * w2 * sum;
}

// Stirling's remainder: lgamma(m + 1) - ((m + 1/2) log m - m + log(2 pi) / 2), m > 0.
// Splitting log-factorials this way lets the large parts of binomial coefficients and
// powers cancel analytically instead of in floating point.
double stirling_tail(double m) {
  if (m >= 10.0) {
    const double r = 1.0 / m, r2 = r * r;
    return r *
           (1.0 / 12 -
            r2 * (1.0 / 360 -
                  r2 * (1.0 / 1260 -
                        r2 * (1.0 / 1680 - r2 * (1.0 / 1188 - r2 * (691.0 / 360360 - r2 / 156))))));
  }
  return std::lgamma(m + 1.0) - ((m + 0.5) * std::log(m) - m + 0.5 * kLog2Pi);
}

// ---- one-sided Smirnov tail: scipy.special.smirnov(n, x) --------------------------

// The Birnbaum-Tingey terms A_v = C(n, v) (x + v/n)^(v-1) (1 - x - v/n)^(n-v), v = 0..N,
// N = n - floor(n x) - 1, whose sum times x is P(D+_n >= x). Logs are accurate to about
// 1e-14 absolute: the binomial coefficient is split by Stirling so that its n log n
// parts cancel against the powers analytically, leaving
//   v log1pmx(n x / v) + (n - v) log1pmx(-n x / (n - v)) + small terms.
struct smirnov_terms {
  double n = 0, x = 0;
  double nx = 0;      // n x (rounded)
  double nx_int = 0;  // floor(n x), exactly
  double alpha = 0;   // n x - floor(n x), from the exact product
  double base = 0;    // 1.5 log n - log(2 pi) / 2 + stirling_tail(n)

  double log_term(std::int64_t v) const {
    if (v == 0) return n * std::log1p(-x) - std::log(x);
    const double vd = static_cast<double>(v), rest = n - vd;
    const double s1 = (vd + nx_int) + alpha;    // n (x + v/n)
    const double s2 = (rest - nx_int) - alpha;  // n (1 - x - v/n) > 0
    const double c = nx / rest;
    // Near the last term 1 - c is small: take it from s2, which is exact there.
    const double upper = c > 0.5 ? rest * (std::log(s2 / rest) + c) : rest * log1pmx(-c);
    return vd * log1pmx(nx / vd) + upper - std::log(s1) - 0.5 * std::log(vd * rest) + base -
           stirling_tail(vd) - stirling_tail(rest);
  }
};

// First (dir = -1) or last (dir = +1) v in [0, last] whose term reaches `cut`, searching
// outward from the peak vp (unimodal terms). `inside` says whether the terms beyond it
// are in range (false: the range boundary itself is significant).
template <class Sig>
std::int64_t significant_edge(std::int64_t vp, std::int64_t last, int dir, Sig significant,
                              bool& inside) {
  const std::int64_t bound = dir < 0 ? 0 : last;
  std::int64_t sig = vp, insig = 0, step = 1;
  while (true) {
    std::int64_t w = vp + dir * step;
    if ((dir < 0 && w <= 0) || (dir > 0 && w >= last)) {
      if (significant(bound)) {
        inside = false;
        return bound;
      }
      insig = bound;
      break;
    }
    if (!significant(w)) {
      insig = w;
      break;
    }
    sig = w;
    step *= 2;
  }
  while (std::llabs(sig - insig) > 1) {
    const std::int64_t mid = sig + (insig - sig) / 2;
    if (significant(mid))
      sig = mid;
    else
      insig = mid;
  }
  inside = true;
  return sig;
}

// log of sum_{v=0}^{last} A_v.
double smirnov_log_sum(const smirnov_terms& s, std::int64_t last) {
  auto f = [&s](std::int64_t v) { return s.log_term(v); };
  if (last < 512) {  // few terms: all of them, as scipy
    std::vector<double> logs(static_cast<std::size_t>(last + 1));
    double top = -std::numeric_limits<double>::infinity();
    for (std::int64_t v = 0; v <= last; ++v) top = std::max(top, logs[v] = f(v));
    double sum = 0.0;
    for (double l : logs) sum += std::exp(l - top);
    return top + std::log(sum);
  }
  // The terms are unimodal in v in every regime kolmogorov_sf reaches: find the peak.
  std::int64_t lo = 0, hi = last;
  while (hi - lo > 2) {
    const std::int64_t m1 = lo + (hi - lo) / 3, m2 = hi - (hi - lo) / 3;
    if (f(m1) < f(m2))
      lo = m1 + 1;
    else
      hi = m2;
  }
  std::int64_t vp = lo;
  double top = f(lo);
  for (std::int64_t v = lo + 1; v <= hi; ++v) {
    const double l = f(v);
    if (l > top) top = l, vp = v;
  }
  // Terms below e^-50 of the peak cannot move the sum (at most 1e6 of them).
  const double cut = top - 50.0;
  auto significant = [&](std::int64_t v) { return f(v) >= cut; };
  bool inside_lo = false, inside_hi = false;
  const std::int64_t first = significant_edge(vp, last, -1, significant, inside_lo);
  const std::int64_t final_v = significant_edge(vp, last, +1, significant, inside_hi);
  const std::int64_t width = final_v - first + 1;

  // sum of exp(f(v) - top) over v = anchor + k step within [first, final_v]
  auto grid_sum = [&](std::int64_t anchor, std::int64_t step) {
    std::int64_t v = anchor - ((anchor - first) / step) * step;
    if (v < first) v += step;
    double sum = 0.0;
    for (; v <= final_v; v += step) sum += std::exp(f(v) - top);
    return sum;
  };
  if (width <= 512 || !inside_lo || !inside_hi) return top + std::log(grid_sum(first, 1));

  // Many significant terms (about n / sqrt(n x^2) of them) of a smooth sequence that
  // vanishes at both ends: step * (sum over every step-th term) equals the full sum up
  // to an error that falls geometrically as the step shrinks (Poisson summation). Start
  // at about 64 samples and halve the step until two successive grids agree to 1e-13;
  // at step 1 the sum is exact. In practice the first halving already agrees.
  std::int64_t step = 1;
  while (step * 2 <= width / 64) step *= 2;
  double sum = static_cast<double>(step) * grid_sum(vp, step);
  while (step > 1) {
    const std::int64_t half = step / 2;
    const double finer = 0.5 * sum + static_cast<double>(half) * grid_sum(vp + half, step);
    const bool agree = std::fabs(finer - sum) <= 1e-13 * finer;
    sum = finer;
    step = half;
    if (agree) break;
  }
  return top + std::log(sum);
}

// scipy.special.smirnov(n, x) for n >= 2 and 1/n < x < 1 (the lower Birnbaum-Tingey
// sum; scipy's upper sum serves n x^2 <= 1/4, which kolmogorov_sf never asks for).
double smirnov_sf(std::int64_t n, double x) {
  const double nd = static_cast<double>(n);
  // floor(n x) and its remainder from the exact product n x = hi + lo.
  const double nx_hi = nd * x, nx_lo = std::fma(nd, x, -nx_hi);
  double fl = std::floor(nx_hi);
  if (fl == nx_hi && nx_lo < 0.0) fl -= 1.0;
  double alpha = (nx_hi - fl) + nx_lo;
  if (alpha >= 1.0) fl += 1.0, alpha = 0.0;
  const auto nx_floor = static_cast<std::int64_t>(fl);

  if (nx_floor == 0 || (nx_floor == 1 && alpha == 0.0)) {  // x <= 1/n
    const double cdf = x * std::exp((nd - 1.0) * std::log1p(x));
    return clip01(1.0 - cdf);
  }
  if (-2.0 * nd * x * x < kMinLog) return 0.0;
  if (nx_floor >= n - 1) return clip01(std::pow(1.0 - x, nd));  // x >= 1 - 1/n
  if (n > 1000000) {
    // scipy's approximation for large n: p ~ exp(-(6 n x + 1)^2 / (18 n)).
    const double logp = -std::pow(6.0 * nd * x + 1.0, 2) / 18.0 / nd;
    return clip01(logp < -kLn2 ? std::exp(logp) : 1.0 - (-std::expm1(logp)));
  }
  smirnov_terms s;
  s.n = nd;
  s.x = x;
  s.nx = nx_hi;
  s.nx_int = fl;
  s.alpha = alpha;
  s.base = 1.5 * std::log(nd) - 0.5 * kLog2Pi + stirling_tail(nd);
  const double log_sf = std::log(x) + smirnov_log_sum(s, n - nx_floor - 1);
  return clip01(std::exp(log_sf));
}

// ---- P(D_n <= d): Durbin's matrix (Marsaglia, Tsang and Wang) ----------------------

// c = a b for m x m row-major matrices.
void matmul(const double* a, const double* b, double* c, int m) {
  std::fill(c, c + static_cast<std::size_t>(m) * m, 0.0);
  for (int i = 0; i < m; ++i) {
    double* ci = c + static_cast<std::size_t>(i) * m;
    for (int k = 0; k < m; ++k) {
      const double aik = a[static_cast<std::size_t>(i) * m + k];
      if (aik == 0.0) continue;
      const double* bk = b + static_cast<std::size_t>(k) * m;
      for (int j = 0; j < m; ++j) ci[j] += aik * bk[j];
    }
  }
}

// When the largest entry of v passes 2^128, scale v by a power of two (exactly) to
// bring it back near 1, adding the power to `exponent`.
void rescale(std::vector<double>& v, long& exponent) {
  double top = 0.0;
  for (double e : v) top = std::max(top, std::fabs(e));
  if (top > kTwo128) {
    const int e = std::ilogb(top);
    const double scale = std::ldexp(1.0, -e);
    for (double& x : v) x *= scale;
    exponent += e;
  }
}

// Write n d = k - h (k whole, 0 <= h < 1); P(D_n <= d) = n!/n^n (H^n)[k, k] for an
// m x m matrix H, m = 2k - 1. Costs O(m^3 log n); kolmogorov_sf uses it for m <= ~120.
double durbin_cdf(std::int64_t n, double d) {
  if (d >= 1.0) return 1.0;
  const double nd = static_cast<double>(n) * d;
  if (nd <= 0.5) return 0.0;
  const int k = static_cast<int>(std::ceil(nd));
  const double h = k - nd;
  const int m = 2 * k - 1;
  const auto mm = static_cast<std::size_t>(m);

  std::vector<double> v(mm), w(mm);
  double fac = 1.0;  // 1/j!
  for (int j = 1; j <= m; ++j) {
    w[j - 1] = fac;
    fac /= j;
    v[j - 1] = (1.0 - std::pow(h, j)) * fac;
  }
  const double tt = std::pow(std::max(2.0 * h - 1.0, 0.0), m) - 2.0 * std::pow(h, m);
  v[mm - 1] = (1.0 + tt) * fac;

  std::vector<double> H(mm * mm, 0.0), tmp(mm * mm);
  for (int c = 1; c < m; ++c)
    for (int r = c - 1; r < m; ++r) H[r * mm + c] = w[r - c + 1];
  for (std::size_t r = 0; r < mm; ++r) H[r * mm] = v[r];
  for (std::size_t c = 0; c < mm; ++c) H[(mm - 1) * mm + c] = v[mm - 1 - c];

  // Row k of H^n by binary powering; powers of two are kept as separate exponents.
  std::vector<double> row(mm, 0.0), next(mm);
  row[k - 1] = 1.0;
  long row_exp = 0, h_exp = 0;
  for (std::int64_t left = n;;) {
    if (left & 1) {
      std::fill(next.begin(), next.end(), 0.0);
      for (std::size_t i = 0; i < mm; ++i) {
        const double ri = row[i];
        if (ri == 0.0) continue;
        const double* hi = &H[i * mm];
        for (std::size_t j = 0; j < mm; ++j) next[j] += ri * hi[j];
      }
      row.swap(next);
      row_exp += h_exp;
      rescale(row, row_exp);
    }
    left >>= 1;
    if (left == 0) break;
    matmul(H.data(), H.data(), tmp.data(), m);
    H.swap(tmp);
    h_exp *= 2;
    rescale(H, h_exp);
  }
  double p = row[k - 1];
  long expnt = row_exp;
  for (std::int64_t i = 1; i <= n; ++i) {  // times n!/n^n
    p = static_cast<double>(i) * p / static_cast<double>(n);
    if (std::fabs(p) < kTwoMinus128) {
      p *= kTwo128;
      expnt -= 128;
    }
  }
  if (expnt != 0) p = std::ldexp(p, static_cast<int>(std::clamp(expnt, -4000L, 4000L)));
  return clip01(p);
}

// ---- P(D_n <= x): Pomeranz's recursion (n <= 140) -----------------------------------

std::pair<std::int64_t, std::int64_t> pomeranz_bounds(std::int64_t i, std::int64_t n,
                                                      std::int64_t ll, int ceilf, int roundf) {
  std::int64_t j1, j2;
  if (i == 0) {
    j1 = -ll - ceilf - 1;
    j2 = ll + ceilf - 1;
  } else {
    const std::int64_t half = (i + 1) / 2;
    if ((i + 1) % 2 == 0) {  // i odd
      if (half == n + 1) {
        j1 = n - ll - ceilf - 1;
        j2 = n + ll + ceilf - 1;
      } else {
        j1 = half - 1 - ll - roundf - 1;
        j2 = half + ll - 1 + ceilf - 1;
      }
    } else {
      j1 = half - 1 - ll - 1;
      j2 = half + ll + roundf - 1;
    }
  }
  return {std::max<std::int64_t>(j1 + 2, 0), std::min(j2, n)};
}

double pomeranz_cdf(std::int64_t n, double x) {
  const double nd = static_cast<double>(n);
  const double t = nd * x;
  const auto ll = static_cast<std::int64_t>(std::floor(t));
  const double f = t - static_cast<double>(ll);
  const double g = std::min(f, 1.0 - f);
  const int ceilf = f > 0 ? 1 : 0, roundf = f > 0.5 ? 1 : 0;
  const auto npwrs = static_cast<std::size_t>(2 * (ll + 1));
  // (g/n)^m/m!, (2g/n)^m/m!, ((1-2g)/n)^m/m!: Poisson probabilities but for a factor.
  std::vector<double> gp(npwrs), g2p(npwrs), g12p(npwrs);
  gp[0] = g2p[0] = g12p[0] = 1.0;
  const double a1 = g / nd, a2 = 2 * g / nd, a3 = (1 - 2 * g) / nd;
  for (std::size_t m = 1; m < npwrs; ++m) {
    gp[m] = gp[m - 1] * a1 / static_cast<double>(m);
    g2p[m] = g2p[m - 1] * a2 / static_cast<double>(m);
    g12p[m] = g12p[m - 1] * a3 / static_cast<double>(m);
  }
  std::vector<double> V0(npwrs, 0.0), V1(npwrs, 0.0);
  V1[0] = 1.0;
  std::int64_t V0s = 0, V1s = 0;  // index of each row's first stored entry
  long expnt = 0;
  auto [j1, j2] = pomeranz_bounds(0, n, ll, ceilf, roundf);
  for (std::int64_t i = 1; i < 2 * n + 2; ++i) {
    const std::int64_t k1 = j1;
    std::swap(V0, V1);
    std::swap(V0s, V1s);
    std::fill(V1.begin(), V1.end(), 0.0);
    std::tie(j1, j2) = pomeranz_bounds(i, n, ll, ceilf, roundf);
    const std::vector<double>& pw = (i == 1 || i == 2 * n + 1) ? gp : (i % 2 ? g2p : g12p);
    const std::int64_t ln2 = j2 - k1 + 1;
    if (ln2 <= 0) continue;
    // V1[t] = (a * pw)[j1 - k1 + t], a = V0 from index k1 on (zero past its end).
    const std::int64_t off = k1 - V0s, conv_start = j1 - k1, conv_len = j2 - j1 + 1;
    auto a = [&](std::int64_t s) {
      const std::int64_t idx = off + s;
      return idx >= 0 && idx < static_cast<std::int64_t>(npwrs) ? V0[idx] : 0.0;
    };
    double top = 0.0;
    for (std::int64_t tt = 0; tt < conv_len; ++tt) {
      const std::int64_t idx = conv_start + tt;
      double sum = 0.0;
      for (std::int64_t s = std::max<std::int64_t>(0, idx - ln2 + 1); s <= std::min(idx, ln2 - 1);
           ++s)
        sum += a(s) * pw[static_cast<std::size_t>(idx - s)];
      V1[static_cast<std::size_t>(tt)] = sum;
      top = std::max(top, sum);
    }
    if (top > 0 && top < kTwoMinus128) {  // keep clear of underflow
      for (double& e : V1) e *= kTwo128;
      expnt -= 128;
    }
    V1s = V0s + j1 - k1;
  }
  double ans = V1[static_cast<std::size_t>(n - V1s)];
  for (std::int64_t m = 1; m <= n; ++m) {  // times n!
    if (std::fabs(ans) > kTwo128) {
      ans *= kTwoMinus128;
      expnt += 128;
    }
    ans *= static_cast<double>(m);
  }
  if (expnt != 0) ans = std::ldexp(ans, static_cast<int>(expnt));
  return clip01(ans);
}

// ---- P(D_n <= x): Pelz and Good's asymptotic expansion ------------------------------

double pelz_good_cdf(double n, double x) {
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  const double pi2 = kPi * kPi, pi4 = pi2 * pi2, pi6 = pi4 * pi2;
  const double z = std::sqrt(n) * x;
  const double z2 = z * z, z3 = z2 * z, z4 = z2 * z2, z6 = z4 * z2;
  const double qlog = -pi2 / 8 / z2;
  if (qlog < -708) return 0.0;
  const double q = std::exp(qlog);

  const double k1a = -z2, k1b = pi2 / 4;
  const double k2a = 6 * z6 + 2 * z4, k2b = (2 * z4 - 5 * z2) * pi2 / 4,
               k2c = pi4 * (1 - 2 * z2) / 16;
  const double k3d = pi6 * (5 - 30 * z2) / 64, k3c = pi4 * (-60 * z2 + 212 * z4) / 16,
               k3b = pi2 * (135 * z4 - 96 * z6) / 4, k3a = -30 * z6 - 90 * z4 * z4;

  // Horner over the odd integers m = 2k - 1: sum_k c_k q^(m^2).
  double K[4] = {0, 0, 0, 0};
  const auto maxk = static_cast<std::int64_t>(std::ceil(16 * z / kPi));
  for (std::int64_t k = maxk; k > 0; --k) {
    const double m = static_cast<double>(2 * k - 1);
    const double m2 = m * m, m4 = m2 * m2, m6 = m4 * m2;
    const double qp = std::pow(q, static_cast<double>(8 * k));
    const double c[4] = {1.0, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4,
                         k3a + k3b * m2 + k3c * m4 + k3d * m6};
    for (int i = 0; i < 4; ++i) K[i] = K[i] * qp + c[i];
  }
  const double div[4] = {z, 6 * z4, 72 * z4 * z3, 6480 * z6 * z4};
  for (int i = 0; i < 4; ++i) K[i] = K[i] * q * kSqrt2Pi / div[i];

  // The sums over all integers k in K2 and K3.
  const double q2 = std::exp(-pi2 / 2 / z2);
  const double sqrt3z = std::sqrt(3.0) * z;
  double k2extra = 0.0, k3extra = 0.0;
  for (std::int64_t k = maxk; k > 0; --k) {
    const double kd = static_cast<double>(k), ksq = kd * kd;
    const double qp = std::pow(q2, ksq), kspi = kPi * kd;
    k2extra += ksq * qp;
    k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ksq * qp;
  }
  K[2] += k2extra * (pi2 * kSqrt2Pi / (-36 * z3));
  K[3] += k3extra * (pi2 * kSqrt2Pi / (216 * z6));
  const double rn = std::sqrt(n);
  return K[0] + K[1] / rn + K[2] / n + K[3] / (n * rn);
}

// log(n! / n^n) by Stirling's series (scipy's _log_nfactorial_div_n_pow_n).
double log_nfactorial_over_n_pow_n(double n) {
  static const double coeffs[] = {-2.955065359477124183e-2,  6.4102564102564102564e-3,
                                  -1.9175269175269175269e-3, 8.4175084175084175084e-4,
                                  -5.952380952380952381e-4,  7.9365079365079365079e-4,
                                  -2.7777777777777777778e-3, 8.3333333333333333333e-2};
  const double rn = 1.0 / n, y = rn / n;
  double poly = 0.0;
  for (double c : coeffs) poly = poly * y + c;
  return std::log(n) / 2 - n + kLog2Pi / 2 + rn * poly;
}

// scipy.stats._ksstats._kolmogn(n, x, cdf=False) for n >= 1.
double kolmogn_sf(std::int64_t n, double x) {
  if (x >= 1.0) return 0.0;
  if (x <= 0.0) return 1.0;
  const double nd = static_cast<double>(n);
  const double t = nd * x;
  if (t <= 1.0) {  // Ruben-Gambino: 1/(2n) <= x <= 1/n
    if (t <= 0.5) return 1.0;
    double prob;
    if (n <= 140) {
      prob = 1.0;
      const double rn = 1.0 / nd, g = 2 * t - 1;
      for (std::int64_t i = 1; i <= n; ++i) prob *= (static_cast<double>(i) * rn) * g;
    } else {
      prob = std::exp(log_nfactorial_over_n_pow_n(nd) + nd * std::log(2 * t - 1));
    }
    return clip01(1.0 - prob);
  }
  if (t >= nd - 1) return clip01(2 * std::pow(1.0 - x, nd));  // Ruben-Gambino
  if (x >= 0.5) return clip01(2 * smirnov_sf(n, x));          // exact: 2 * smirnov
  const double nxsq = t * x;
  if (n <= 140) {
    if (nxsq <= 0.754693) return clip01(1.0 - durbin_cdf(n, x));
    if (nxsq <= 4) return clip01(1.0 - pomeranz_cdf(n, x));
    return clip01(2 * smirnov_sf(n, x));
  }
  if (nxsq >= 370.0) return 0.0;
  if (nxsq >= 2.2) return clip01(2 * smirnov_sf(n, x));
  // The SF is 1 - CDF here (and n x^2 < 18, so the CDF is never rounded to 1).
  const double cdf =
      (n <= 100000 && nd * std::pow(x, 1.5) <= 1.4) ? durbin_cdf(n, x) : pelz_good_cdf(nd, x);
  return clip01(1.0 - cdf);
}

// ---- two-sample exact p-values (scipy.stats._stats_py) ------------------------------

// Pr(D_{n,n} >= h/n) = 2 (A0 (1 - A1 (1 - A2 (1 - ...)))), the reflection sum in
// Horner form; the operations and their order are scipy's, so that the result (which
// can round to just above 1, sending scipy to its asymptotic branch) is bit for bit.
double prob_outside_square(std::int64_t n, std::int64_t h) {
  double P = 0.0;
  for (std::int64_t k = n / h; k >= 0; --k) {
    double p1 = 1.0;
    for (std::int64_t j = 0; j < h; ++j)
      p1 = static_cast<double>(n - k * h - j) * p1 / static_cast<double>(n + k * h + j + 1);
    P = p1 * (1.0 - P);
  }
  return 2 * P;
}

// Proportion of lattice paths from (0, 0) to (m, n) that leave the band
// |x/m - y/n| < h / lcm(m, n): Hodges' inside method, with Viehmann's recursion for the
// complement so that small p-values keep their relative precision:
//   A(i, j) = (A(i-1, j) i + A(i, j-1) j) / (i + j) inside the band, 1 outside it,
// and the answer is A(m, n). Work O(m * width), width ~ 2 h / (m / g) + 1.
//
// The arithmetic is scipy's, operation for operation, so the result is bit for bit.
// Each entry waits on the one below it (a chain of a multiply, an add and a divide),
// so columns are computed kBlock at a time on a skewed front: column i + c handles
// row j at step j + c, when column i + c - 1 has row j ready. The kBlock chains are
// independent and the processor overlaps them.
constexpr int kBlock = 8;

template <int K>
void inside_block(std::int64_t i0, const std::int64_t* lo, const std::int64_t* hi,
                  std::vector<double>* cols) {
  // cols[c] holds column i0 + c - 1 (absolute row index); cols[0] is the input.
  double val[K], id[K];
  std::int64_t s_end = 0;
  for (int c = 0; c < K; ++c) {
    id[c] = static_cast<double>(i0 + c);
    val[c] = lo[c] == 0 ? 0.0 : 1.0;  // the row below the band has left it
    double* out = cols[c + 1].data();
    out[hi[c]] = out[hi[c] + 1] = 1.0;  // rows above the band have left it
    s_end = std::max(s_end, hi[c] - 1 + c);
  }
  // Steps where every column's row is inside its band need no bounds checks.
  std::int64_t full_lo = lo[0], full_hi = s_end;
  for (int c = 0; c < K; ++c) {
    full_lo = std::max(full_lo, lo[c] + c);
    full_hi = std::min(full_hi, hi[c] - 1 + c);
  }
  auto step = [&](std::int64_t s, auto checked) {
    for (int c = 0; c < K; ++c) {
      const std::int64_t j = s - c;
      if (checked && (j < lo[c] || j >= hi[c])) continue;
      const double jd = static_cast<double>(j);
      const double v = (cols[c][j] * id[c] + val[c] * jd) / (id[c] + jd);
      val[c] = v;
      cols[c + 1][j] = v;
    }
  };
  std::int64_t s = lo[0];
  if (full_lo <= full_hi) {
    for (; s < full_lo; ++s) step(s, std::true_type{});
#if defined(__GNUC__)
    if constexpr (K % 2 == 0) {
      // Columns in pairs, one pair per two-lane vector: the divides go two at a time
      // (IEEE division lane by lane, so the bits do not change).
      typedef double v2d __attribute__((vector_size(16)));
      v2d pid[K / 2], pval[K / 2];
      for (int p = 0; p < K / 2; ++p) {
        pid[p] = v2d{id[2 * p], id[2 * p + 1]};
        pval[p] = v2d{val[2 * p], val[2 * p + 1]};
      }
      for (; s <= full_hi; ++s) {
        for (int p = 0; p < K / 2; ++p) {
          const int c = 2 * p;
          const std::int64_t j = s - c;
          const v2d prev{cols[c][j], cols[c + 1][j - 1]};
          const v2d jd{static_cast<double>(j), static_cast<double>(j - 1)};
          const v2d v = (prev * pid[p] + pval[p] * jd) / (pid[p] + jd);
          pval[p] = v;
          cols[c + 1][j] = v[0];
          cols[c + 2][j - 1] = v[1];
        }
      }
      for (int p = 0; p < K / 2; ++p) {
        val[2 * p] = pval[p][0];
        val[2 * p + 1] = pval[p][1];
      }
    }
#endif
    for (; s <= full_hi; ++s) step(s, std::false_type{});
  }
  for (; s <= s_end; ++s) step(s, std::true_type{});
}

double outer_prob_inside(std::int64_t m, std::int64_t n, std::int64_t g, std::int64_t h) {
  if (m < n) std::swap(m, n);
  const std::int64_t mg = m / g, ng = n / g;
  const double mgd = static_cast<double>(mg);
  // Band rows [lo[i], hi[i]) of every column, as scipy computes them.
  std::vector<std::int64_t> lo(static_cast<std::size_t>(m + 1)), hi(lo.size());
  lo[0] = 0;
  hi[0] = std::min<std::int64_t>(static_cast<std::int64_t>(std::ceil(static_cast<double>(h) / mgd)),
                                 n + 1);
  for (std::int64_t i = 1; i <= m; ++i) {
    std::int64_t a =
        static_cast<std::int64_t>(std::floor(static_cast<double>(ng * i - h) / mgd)) + 1;
    a = std::min(std::max<std::int64_t>(a, 0), n);
    const std::int64_t b = std::min<std::int64_t>(
        static_cast<std::int64_t>(std::ceil(static_cast<double>(ng * i + h) / mgd)), n + 1);
    if (b <= a) return 1.0;  // the band closes: every path leaves it
    lo[i] = a;
    hi[i] = b;
  }
  // kBlock + 1 columns of n + 3 rows; rows past a column's band read as 1.
  std::vector<double> cols[kBlock + 1];
  for (auto& c : cols) c.assign(static_cast<std::size_t>(n + 3), 1.0);
  std::fill(cols[0].begin(), cols[0].begin() + hi[0], 0.0);
  std::int64_t i = 1;
  for (; i + kBlock - 1 <= m; i += kBlock) {
    inside_block<kBlock>(i, &lo[i], &hi[i], cols);
    std::swap(cols[0], cols[kBlock]);
  }
  for (; i <= m; ++i) {
    inside_block<1>(i, &lo[i], &hi[i], cols);
    std::swap(cols[0], cols[1]);
  }
  return cols[0][static_cast<std::size_t>(hi[m] - 1)];
}

// ---- incomplete gamma ------------------------------------------------------------------

// log(x^a e^-x / Gamma(a + 1)); for large a through Stirling, so that a log x, x and
// lgamma(a + 1) (each ~a) cancel analytically: a log1pmx((x - a)/a) - log(2 pi a)/2 - ...
double log_gamma_prefix(double a, double x) {
  if (a < 10.0) return a * std::log(x) - x - std::lgamma(a + 1.0);
  return a * log1pmx((x - a) / a) - 0.5 * std::log(2.0 * kPi * a) - stirling_tail(a);
}

std::int64_t gamma_iterations(double a) {
  return 2000 + static_cast<std::int64_t>(20.0 * std::sqrt(a));
}

// P(a, x) by its power series: x^a e^-x / Gamma(a+1) * sum_k x^k / ((a+1)...(a+k)).
double gamma_p_series(double a, double x) {
  double sum = 1.0, term = 1.0;
  const std::int64_t iters = gamma_iterations(a);
  for (std::int64_t k = 1; k < iters; ++k) {
    term *= x / (a + static_cast<double>(k));
    sum += term;
    if (term <= sum * 1e-17) break;
  }
  return std::exp(log_gamma_prefix(a, x)) * sum;
}

// Q(a, x) for small a and x <= 1.1 without forming 1 - P:
// Q = 1 - x^a / Gamma(a+1) - x^a / Gamma(a) sum_{k>=1} (-x)^k / (k! (a + k)).
double gamma_q_small_a(double a, double x) {
  double fac = 1.0, sum = 0.0;
  for (int k = 1; k < 2000; ++k) {
    fac *= -x / k;
    const double term = fac / (a + k);
    sum += term;
    if (std::fabs(term) <= 1e-17 * std::fabs(sum)) break;
  }
  const double logx = std::log(x), lg1 = std::lgamma(1.0 + a);
  return -std::expm1(a * logx - lg1) - std::exp(a * logx - lg1 + std::log(a)) * sum;
}

// Q(a, x) by Legendre's continued fraction (modified Lentz), for x >= a.
double gamma_q_fraction(double a, double x) {
  constexpr double tiny = 1e-300;
  double b = x + 1.0 - a, c = 1.0 / tiny, d = 1.0 / b, h = d;
  const std::int64_t iters = gamma_iterations(a);
  for (std::int64_t i = 1; i < iters; ++i) {
    const double an = -static_cast<double>(i) * (static_cast<double>(i) - a);
    b += 2.0;
    d = an * d + b;
    if (std::fabs(d) < tiny) d = tiny;
    c = b + an / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1.0 / d;
    const double del = d * c;
    h *= del;
    if (std::fabs(del - 1.0) <= 1e-16) break;
  }
  // x^a e^-x / Gamma(a) = a x^a e^-x / Gamma(a + 1)
  return std::exp(log_gamma_prefix(a, x) + std::log(a)) * h;
}

// Regularized upper incomplete gamma Q(a, x), a > 0, 0 < x < inf, with cephes' choice
// of method (series for P below the mode, continued fraction above it, a direct
// series for Q when a and x are both small).
double gamma_q(double a, double x) {
  if (x > 1.1) return x < a ? 1.0 - gamma_p_series(a, x) : gamma_q_fraction(a, x);
  if (x <= 0.5) {
    if (-0.4 / std::log(x) < a) return 1.0 - gamma_p_series(a, x);
    return gamma_q_small_a(a, x);
  }
  if (x * 1.1 < a) return 1.0 - gamma_p_series(a, x);
  return gamma_q_small_a(a, x);
}

}  // namespace

double kolmogorov_sf(double d, double n) noexcept {
  if (std::isnan(d) || std::isnan(n)) return quiet_nan();
  // n must be a whole number >= 1 (scipy's kstwo._argcheck); 2^62 keeps n in range.
  if (!(n >= 1.0) || n > 0x1p62 || n != std::floor(n)) return quiet_nan();
  if (d <= 0.5 / n) return 1.0;  // at or below the support
  if (d >= 1.0) return 0.0;
  return kolmogn_sf(static_cast<std::int64_t>(n), d);
}

ks_2samp_result ks_2samp_pvalue(std::uint64_t n1, std::uint64_t n2, double d) noexcept {
  ks_2samp_result r;
  r.statistic = d;
  r.pvalue = quiet_nan();
  if (n1 == 0 || n2 == 0 || !(d >= 0.0 && d <= 1.0)) return r;
  if (std::max(n1, n2) <= 10000) {  // scipy's 'auto': exact up to 10,000 a side
    const std::uint64_t g = std::gcd(n1, n2);
    const std::uint64_t lcm = (n1 / g) * n2;
    const double hd = round_half_even(d * static_cast<double>(lcm));
    const auto h = static_cast<std::int64_t>(hd);
    d = hd * 1.0 / static_cast<double>(lcm);
    r.statistic = d;
    if (h == 0) {
      r.pvalue = 1.0;
      r.exact = true;
      return r;
    }
    const auto a = static_cast<std::int64_t>(n1), b = static_cast<std::int64_t>(n2);
    const double prob = n1 == n2 ? prob_outside_square(a, h)
                                 : outer_prob_inside(a, b, static_cast<std::int64_t>(g), h);
    if (prob >= 0.0 && prob <= 1.0) {
      r.pvalue = prob;
      r.exact = true;
      return r;
    }
    // scipy warns and falls back to the asymptotic p-value of the lattice d.
  }
  const double big = static_cast<double>(std::max(n1, n2));
  const double small = static_cast<double>(std::min(n1, n2));
  const double en = big * small / (big + small);
  r.pvalue = clip01(kolmogorov_sf(d, round_half_even(en)));
  return r;
}

double chi2_sf(double x, double dof) noexcept {
  if (std::isnan(x) || std::isnan(dof)) return quiet_nan();
  if (!(dof > 0.0)) return quiet_nan();
  if (x <= 0.0) return 1.0;
  if (std::isinf(x)) return 0.0;
  if (std::isinf(dof)) return 1.0;
  return clip01(gamma_q(0.5 * dof, 0.5 * x));
}

double normal_sf(double z) noexcept {
  if (std::isnan(z)) return quiet_nan();
  // scipy: ndtr(-z), i.e. erfc(z / sqrt(2)) / 2, with the argument formed the same way.
  constexpr double kSqrtHalf = 0.70710678118654752440;
  return 0.5 * std::erfc(z * kSqrtHalf);
}

}  // namespace driftcore
