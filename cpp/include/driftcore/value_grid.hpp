#pragma once
/// @file value_grid.hpp
/// @brief Exact counts of a column's finite values on a canonical grid of the float64
/// line: an order-independent, mergeable quantile summary.
///
/// A value's cell is its order_key() (the IEEE-754 bits mapped so that unsigned order
/// is numeric order) shifted right by the grid's `shift`. At shift 0 every distinct
/// value has its own cell; each step up pairs neighbouring cells. With 12 + m bits
/// kept, a cell spans a relative width of 2^-m (as an HDR histogram or DDSketch with
/// uniform collapsing), so the grid resolves large offsets (timestamps near 1.7e9) as
/// finely as values near 1. Cells never straddle zero: -0.0 counts as +0.0.
///
/// The grid holds at most `max_cells` occupied cells. Its shift is the smallest at
/// which all values seen fit in that many cells: a grid coarsens only when the cells
/// seen so far cannot fit, and the cells occupied at a shift only grow with more data,
/// so the state (shift, keys and counts) is a function of the multiset of values alone,
/// whatever the order, chunking, thread count or merge tree. Counts are exact.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "driftcore/common.hpp"
#include "driftcore/moments.hpp"

namespace driftcore {

/// @brief What value_grid::update_summarized() says of the values it counted.
struct value_summary {
  /// Counts of finite, NaN and infinite values and the finite extremes; mean and m2
  /// are left 0 (a caller rounds them exactly from the sums).
  moments counts;
  power_sums sums;  ///< exact, as compute_power_sums() gives them
};

class value_grid {
 public:
  static constexpr std::uint32_t min_cells = 16;
  static constexpr std::uint32_t max_cells_limit = std::uint32_t(1) << 20;
  static constexpr int max_shift = 63;  ///< two cells: negative and non-negative values

  /// @throws invalid_input unless min_cells <= @p max_cells <= max_cells_limit.
  explicit value_grid(std::uint32_t max_cells = 4096);

  /// @brief Count the finite values of @p values (NaN and +-inf are skipped: the
  /// moments count them). Commits only when the whole call succeeded (cancellation
  /// included), so a failed call leaves the grid unchanged.
  void update(const array_view& values, int threads);

  /// @brief update(), and from the same pass over the values what a profile keeps of
  /// them besides the grid: the moments' counts and extremes, and the exact sums.
  value_summary update_summarized(const array_view& values, int threads);

  /// @brief update_summarized() of device-resident @p values (a CUDA pointer), in
  /// work ordered on @p stream (a cudaStream_t, 0 for the default stream): the same
  /// grid, counts and sums. The values stay on the device; at most max_cells cells and
  /// a few hundred kilobytes of binade sums come back. Throws without CUDA.
  value_summary update_summarized_device(const array_view& values, std::uintptr_t stream);

  /// @brief The device algorithm of update_summarized_device() run on the host, value
  /// by value in the kernels' order of operations: for tests without a device.
  value_summary update_summarized_replay(const array_view& values);

  /// @brief Add counted cells: @p keys (strictly increasing, cells of finite values)
  /// at @p shift with their @p counts (> 0), as a device computes them. The same as
  /// updating with the values they count, when @p shift is at most this grid's.
  /// @throws invalid_input on keys, counts or a shift that could not come from values.
  void add_counts(std::vector<std::uint64_t> keys, std::vector<std::uint64_t> counts, int shift);

  /// @brief Fold @p other into this grid (equal max_cells required).
  void merge(const value_grid& other);

  /// @brief Re-aggregate onto the coarser grid @p shift (no-op when not coarser).
  void coarsen_to(int shift);

  std::uint32_t max_cells() const noexcept { return max_cells_; }
  int shift() const noexcept { return shift_; }
  std::uint64_t total() const noexcept { return total_; }
  const std::vector<std::uint64_t>& keys() const noexcept { return keys_; }
  const std::vector<std::uint64_t>& counts() const noexcept { return counts_; }

  /// @brief Smallest and largest double in cell @p key at this grid's shift.
  double cell_low(std::uint64_t key) const noexcept { return cell_low(key, shift_); }
  double cell_high(std::uint64_t key) const noexcept { return cell_high(key, shift_); }
  /// @brief The same for cell @p key of any grid at @p shift (0 ..= max_shift).
  static double cell_low(std::uint64_t key, int shift) noexcept;
  static double cell_high(std::uint64_t key, int shift) noexcept;

  std::string to_bytes() const;
  /// @throws invalid_input when the payload is not a valid grid (every invariant is
  /// checked: sizes, strictly increasing keys of finite cells, positive counts, total).
  static value_grid from_bytes(const std::string& payload);

  bool operator==(const value_grid& o) const noexcept {
    return max_cells_ == o.max_cells_ && shift_ == o.shift_ && total_ == o.total_ &&
           keys_ == o.keys_ && counts_ == o.counts_;
  }

 private:
  friend struct value_grid_block;
  friend struct value_grid_levels;

  /// Merge sorted (key, count) runs at this shift into the grid, then coarsen until at
  /// most max_cells remain.
  void absorb(std::vector<std::uint64_t>& keys, std::vector<std::uint64_t>& counts, int shift);

  std::uint32_t max_cells_;
  int shift_ = 0;
  std::uint64_t total_ = 0;
  std::vector<std::uint64_t> keys_;    ///< strictly increasing
  std::vector<std::uint64_t> counts_;  ///< > 0, same length as keys_
};

}  // namespace driftcore
