#pragma once
/// @file two_sample.hpp
/// @brief Exact two-sample distances between empirical distributions: the
/// Kolmogorov-Smirnov statistic and the Wasserstein-1 distance.

#include <cstddef>

#include "driftcore/common.hpp"

namespace driftcore {

/// @brief Statistics of two samples (NaN dropped; +-inf kept in their place).
struct two_sample_stats {
  double ks = 0.0;  ///< sup_x |F_a(x) - F_b(x)|
  double wasserstein =
      0.0;              ///< integral of |F_a - F_b| dx (inf when they differ on an infinite range)
  std::size_t n_a = 0;  ///< values used (NaN excluded)
  std::size_t n_b = 0;
};

/// @brief Statistics of two ascending, NaN-free samples. The KS statistic uses the
/// same floating-point operations as scipy.stats.ks_2samp (i / n_a - j / n_b), so it
/// is bit-identical; Wasserstein-1 is integrated over quantiles with compensation.
/// @throws invalid_input when a sample is not sorted or holds NaN.
/// @param want_ks, want_wasserstein compute only what is asked (the other is NaN).
two_sample_stats two_sample_sorted(const double* a, std::size_t na, const double* b, std::size_t nb,
                                   bool want_ks = true, bool want_wasserstein = true);

/// @brief Same statistics between two weighted, sorted samples (quantile-sketch views).
/// @param ca, cb cumulative weights (ca[i] = weight of a[0..i]); ca[na-1] is the total.
two_sample_stats two_sample_weighted(const double* a, const double* ca, std::size_t na,
                                     const double* b, const double* cb, std::size_t nb);

}  // namespace driftcore
