#pragma once
/// @file quantile_sketch.hpp
/// @brief A mergeable quantile sketch of the KLL family (Karnin, Lang, Liberty 2016).
///
/// Guarantee: for a sketch with parameter k over n values, the normalized rank error
/// |R_est(x) - R(x)| / n of any single query is at most eps(k) = 2.296 / k^0.9723 with
/// probability 0.99 (eps(200) = 1.33%, eps(400) = 0.68%), the same bound as Apache
/// DataSketches' KLL. Below 4096 values the sketch is exact.
///
/// Why KLL: it is the rank-error sketch with the best proven space/accuracy trade-off,
/// it merges with the same guarantee, and its work is sorting, which we do in batches:
/// level 0 is a 4096-value buffer sorted by radix sort, so an update costs a few passes
/// over the data instead of an insertion per value. Compaction coins come from a
/// counter-based generator keyed by the seed: the same seed, data, chunking and merge
/// order give the same sketch (thread count plays no part: updates are sequential).

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "driftcore/common.hpp"

namespace driftcore {

class quantile_sketch {
 public:
  /// @param k accuracy parameter (8 <= k <= 65535); memory is about 3k + 4096 values.
  /// @throws invalid_input on k out of range.
  explicit quantile_sketch(std::uint32_t k = 400, std::uint64_t seed = 0);

  /// @brief Add the non-NaN values of @p values (NaN values are counted apart).
  void update(const array_view& values);

  /// @brief Add sorted, non-NaN @p values that each stand for 2^@p level original values
  /// (a chunk summarized elsewhere, e.g. sorted and subsampled on the GPU), whose true
  /// extremes were @p lo and @p hi, plus @p nan_count NaNs.
  /// @throws invalid_input on unsorted or NaN values or level > 40.
  void update_compacted(const double* values, std::size_t n, std::uint32_t level, double lo,
                        double hi, std::uint64_t nan_count);

  /// @brief Where a chunk of @p count sorted values summarized elsewhere keeps its
  /// picks: every 2^@p level-th value from this offset (in [0, 2^level)), drawn from
  /// the sketch's seed, its count so far and @p count (level <= 40).
  std::uint64_t compaction_offset(std::uint64_t count, std::uint32_t level) const noexcept;

  /// @brief Fold @p other in. @throws invalid_input when k differs.
  void merge(const quantile_sketch& other);

  std::uint32_t k() const noexcept { return k_; }
  std::uint64_t seed() const noexcept { return seed_; }
  std::uint64_t n() const noexcept { return n_; }  ///< values summarized (NaN excluded)
  std::uint64_t nan_count() const noexcept { return nan_; }
  double min() const noexcept { return min_; }
  double max() const noexcept { return max_; }
  std::size_t retained() const noexcept;
  bool exact() const noexcept { return levels_.size() <= 1; }
  /// @brief 0 while exact, else eps(k) (see the class comment).
  double rank_error() const noexcept;
  static double rank_error_for(std::uint32_t k) noexcept;

  /// @brief Values at normalized ranks @p q (each in [0, 1]): the smallest retained
  /// value whose cumulative weight reaches q * n; q = 0 gives min, q = 1 max.
  std::vector<double> quantiles(const double* q, std::size_t m) const;
  /// @brief Estimated fraction of values <= x, for each x.
  std::vector<double> cdf(const double* x, std::size_t m) const;
  /// @brief Retained values sorted, with cumulative weights.
  void sorted_view(std::vector<double>& values, std::vector<double>& cum_weights) const;

  bool operator==(const quantile_sketch& o) const noexcept;
  std::string serialize() const;
  static quantile_sketch deserialize(const std::string& payload);

 private:
  std::uint32_t k_;
  std::uint64_t seed_;
  std::uint64_t n_ = 0, nan_ = 0, coins_ = 0;
  double min_ = 0.0, max_ = 0.0;
  // levels_[h] holds values of weight 2^h; level 0 is an unsorted buffer, the rest sorted.
  std::vector<std::vector<double>> levels_;
  std::vector<std::uint64_t> scratch_;
  std::array<std::size_t, 64> cap_by_depth_{};  // ceil(k (2/3)^depth), at least 2

  std::size_t capacity(std::size_t level) const noexcept;
  std::size_t total_capacity() const noexcept;
  std::uint32_t sampler_level() const noexcept;
  template <class T>
  void absorb(const T* values, std::size_t m);
  template <class T>
  void update_values(const T* x, std::size_t n);
  void compress();
  void compact(std::size_t level);
  void note_range(double lo, double hi) noexcept;
};

}  // namespace driftcore
