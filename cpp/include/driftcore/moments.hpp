#pragma once
/// @file moments.hpp
/// @brief Count, NaN/inf counts, min, max, mean and M2 of a column, mergeable.

#include <cstdint>
#include <vector>

#include "driftcore/common.hpp"

namespace driftcore {

/// @brief Summary of the finite values of a column plus counts of what is not finite.
/// Mean and M2 (sum of squared deviations) merge by Chan's formula. Blocks of 16,384
/// values are reduced (each in 32 interleaved lane sums and a fixed pairwise tree; the
/// AVX-512 and portable loops give the same bits) and combined in block order, so the
/// result depends neither on the thread count nor on the instruction set.
struct moments {
  std::uint64_t count = 0;    ///< finite values
  std::uint64_t nan = 0;      ///< NaN values
  std::uint64_t pos_inf = 0;  ///< +inf values
  std::uint64_t neg_inf = 0;  ///< -inf values
  double min = 0.0;           ///< of the finite values (meaningless when count == 0)
  double max = 0.0;
  double mean = 0.0;
  double m2 = 0.0;

  /// @brief Fold @p o into this summary (Chan et al. parallel update).
  void merge(const moments& o) noexcept;
};

/// @brief Moments of @p values using up to @p threads threads.
moments compute_moments(const array_view& values, int threads);

/// @brief The exact sums of the finite values and of their squares, as integers:
/// every finite double is an integer multiple of 2^-1074, so S1 * 2^1074 and
/// S2 * 2^2148 are integers. Each is returned in base-2^32 digits, least significant
/// first, all in [0, 2^32) but the last, which carries the sign. Exact whatever the
/// order, chunking or thread count: the sums add up in a fixed-point accumulator
/// wide enough for any double and any count below 2^63.
struct power_sums {
  std::vector<std::int64_t> s1;
  std::vector<std::int64_t> s2;
};

/// @brief power_sums of @p values using up to @p threads threads.
power_sums compute_power_sums(const array_view& values, int threads);

}  // namespace driftcore
