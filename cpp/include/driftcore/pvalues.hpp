#pragma once
/// @file pvalues.hpp
/// @brief p-values of the drift tests (Kolmogorov-Smirnov, chi-square, normal), equal
/// to scipy.stats' (typically to 1e-13 relative, 2e-12 at worst where scipy itself is
/// accurate; the exact two-sample KS method bit for bit), at a fraction of their cost.
///
/// Every function follows the branches of the scipy routine it is named after, so it
/// returns scipy's number, approximations included (for example scipy's
/// `smirnov(n, x)` switches to an asymptotic formula above n = 10^6; so does this).
/// The one exception is the cost: where scipy sums all ~n Birnbaum-Tingey terms of a
/// smooth, unimodal sequence, this code samples the sequence on a grid that it refines
/// until two grids agree to 1e-13 (the sum of a smooth sequence converges
/// geometrically under such sampling), which takes a few hundred terms.
/// Invalid arguments give NaN; nothing here throws.

#include <cstdint>

namespace driftcore {

/// @brief P(D_n >= d) for the one-sample, two-sided Kolmogorov statistic D_n of a
/// sample of @p n values: `scipy.stats.kstwo.sf(d, n)`.
/// @param d the statistic; d <= 0.5 / n gives 1 and d >= 1 gives 0, as in scipy.
/// @param n the sample size, a whole number >= 1 (otherwise NaN).
/// @return the survival probability in [0, 1], or NaN for NaN or invalid input.
double kolmogorov_sf(double d, double n) noexcept;

/// @brief A two-sample KS p-value and the statistic it belongs to.
struct ks_2samp_result {
  double statistic = 0.0;  ///< d as scipy reports it: on the 1/lcm(n1, n2) lattice when exact
  double pvalue = 0.0;     ///< two-sided p-value in [0, 1] (NaN for invalid input)
  bool exact = false;      ///< true when the exact lattice-path method produced it
};

/// @brief Two-sided p-value of the two-sample KS statistic @p d between samples of
/// sizes @p n1 and @p n2, equal to `scipy.stats.ks_2samp(..., method='auto').pvalue`.
///
/// Up to 10,000 values a side it is scipy's exact method (d rounded onto the lattice
/// of multiples of 1/lcm(n1, n2); the reflection sum when n1 == n2, Hodges' inside
/// method with Viehmann's recursion otherwise, falling back to the asymptotic branch
/// where scipy does); beyond, `kolmogorov_sf(d, round(n1 n2 / (n1 + n2)))`.
/// @param n1, n2 sample sizes, both >= 1 (otherwise the p-value is NaN).
/// @param d the statistic, in [0, 1] (otherwise the p-value is NaN).
ks_2samp_result ks_2samp_pvalue(std::uint64_t n1, std::uint64_t n2, double d) noexcept;

/// @brief Upper tail of the chi-square distribution, `scipy.stats.chi2.sf(x, dof)`:
/// the regularized upper incomplete gamma function Q(dof / 2, x / 2).
/// @param x the statistic; x <= 0 gives 1 and x = +inf gives 0.
/// @param dof degrees of freedom, > 0 (otherwise NaN); need not be a whole number.
/// @return Q, with a relative error of about 1e-13 wherever it exceeds 1e-300.
double chi2_sf(double x, double dof) noexcept;

/// @brief Upper tail of the standard normal distribution, `scipy.stats.norm.sf(z)`.
double normal_sf(double z) noexcept;

}  // namespace driftcore
