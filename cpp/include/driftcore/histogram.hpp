#pragma once
/// @file histogram.hpp
/// @brief A streaming, mergeable 1-D histogram with exact integer counts.
///
/// Bins are [e_i, e_{i+1}) except the last, which is closed [e_{n-1}, e_n] (numpy's
/// convention). Values below e_0 (including -inf) are counted as underflow, above e_n
/// (including +inf) as overflow, NaN apart: nothing is dropped. Counts are integers,
/// so they are identical however the data is chunked, threaded, merged or placed.
/// Optional weights accumulate in float64 per fixed block of 65,536 values, so
/// weighted sums do not depend on the thread count either (they may differ in the last
/// bits when the same data is chunked differently).

#include <cstdint>
#include <string>
#include <vector>

#include "driftcore/common.hpp"

namespace driftcore {

/// @brief Most bins a histogram may have: 2^26, whose counts and weight sums take
/// 1 GiB; checked before anything of that size is allocated.
constexpr std::size_t kMaxBins = std::size_t(1) << 26;

class histogram {
 public:
  /// @brief Histogram over strictly increasing finite @p edges (at least 2 of them).
  /// Equally spaced edges (as from numpy.linspace) are detected and take the fast
  /// kernel; its result is still defined by the edges themselves.
  /// @throws invalid_input when the edges are not finite and strictly increasing, or
  /// when there are more than kMaxBins bins.
  histogram(std::vector<double> edges, bool weighted);

  /// @brief Add @p values (and @p weights when weighted; same length) to the counts.
  /// Leaves the state unchanged when it throws (cancelled included). Scratch memory is
  /// about threads x bins x 16 bytes, independent of the number of values.
  void update(const array_view& values, const array_view* weights, int threads);

  /// @brief update() for device-resident @p values (and @p weights): the CUDA kernel,
  /// enqueued on @p stream (a cudaStream_t as an integer; 0 = legacy default stream),
  /// then the slot counts added here. Returns after the stream has synchronized; counts
  /// equal update()'s exactly. Leaves the state unchanged when it throws. Weights are not
  /// checked on the device: the caller passes finite ones.
  /// @throws std::runtime_error on a CUDA error or in a build without CUDA.
  void update_device(const array_view& values, const array_view* weights, std::uintptr_t stream);

  /// @brief Make the lookup table fit a fill of @p values values (a finer table for
  /// large fills of arbitrary edges). update() and update_device() call it.
  void prepare_for(std::size_t values);

  /// @brief Add per-slot counts computed elsewhere.
  /// @param slots underflow, bins..., overflow, nan (nbins + 3 entries).
  void add_slot_counts(const std::uint64_t* slots, const double* weight_slots);

  /// @brief Add another histogram with the same edges and kind.
  /// @throws invalid_input on different edges or weighting.
  void merge(const histogram& other);

  /// @brief A histogram with the same edges, kind and lookup table and no counts:
  /// cheaper than constructing one from the edges, which rebuilds the table.
  histogram empty_copy() const;

  /// @brief Counts per slot: underflow, bins..., overflow, nan.
  const std::vector<std::uint64_t>& slots() const noexcept { return slots_; }
  /// @brief Weight sums per slot (empty when unweighted).
  const std::vector<double>& weight_slots() const noexcept { return wslots_; }
  const std::vector<double>& edges() const noexcept { return edges_; }
  bool uniform() const noexcept { return uniform_; }
  bool weighted() const noexcept { return weighted_; }
  std::size_t nbins() const noexcept { return edges_.size() - 1; }
  bool same_layout(const histogram& other) const noexcept;
  /// @brief Lookup table of the arbitrary-edges kernel (empty for equal spacing).
  const std::vector<std::uint32_t>& cell_lo() const noexcept { return cell_lo_; }
  const std::vector<std::uint32_t>& cell_hi() const noexcept { return cell_hi_; }
  double cell_scale() const noexcept { return cell_scale_; }
  bool operator==(const histogram& other) const noexcept;

  /// @brief Payload bytes (framing, version and checksum are added by the caller).
  std::string serialize() const;
  /// @brief Inverse of serialize(); validates every length.
  /// @throws invalid_input on a malformed payload.
  static histogram deserialize(const std::string& payload);

 private:
  std::vector<double> edges_;
  bool uniform_;
  bool weighted_;
  std::vector<std::uint64_t> slots_;
  std::vector<double> wslots_;
  // Lookup table over [e_0, e_n] for arbitrary edges: a cell's candidate bin range.
  std::vector<std::uint32_t> cell_lo_, cell_hi_;
  double cell_scale_ = 0.0;
  void build_lookup(std::size_t cells_per_bin);
};

}  // namespace driftcore
