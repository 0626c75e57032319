#pragma once
/// @file row_sample.hpp
/// @brief The keys of a seeded uniform row sample (bottom-k sampling while streaming).
///
/// Row r of a stream (r counts from 0 over the whole stream) gets the key
/// k(r) = splitmix_mix(base + (r + 1) * 0x9E3779B97F4A7C15) >> 11, a uniform 53-bit
/// integer (output r of the SplitMix64 generator started at base), read as
/// k(r) * 2^-53 in [0, 1). A key depends only on base and r, so a stream cut into
/// batches, files or Dask partitions keys every row as one reader would, and a part
/// of the stream is keyed without drawing the rows before it.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace driftcore {

/// @brief The generator start for a (seed, stream) pair.
std::uint64_t sample_base(std::uint64_t seed, std::uint64_t stream) noexcept;

/// @brief Rows start .. start + n - 1 whose key is below @p cut (a number in [0, 1];
/// 1 or more keeps every row): their offsets from @p start, in order, and their keys.
/// @throws invalid_input when @p cut is NaN.
void sample_keys_below(std::uint64_t base, std::uint64_t start, std::size_t n, double cut,
                       std::vector<std::int64_t>& rows, std::vector<double>& keys);

/// @brief The keys of the @p n rows numbered @p rows (any order): for a sample of some
/// of a stream's rows, keyed by their place in the whole stream.
void sample_keys_at(std::uint64_t base, const std::uint64_t* rows, std::size_t n,
                    double* keys) noexcept;

}  // namespace driftcore
