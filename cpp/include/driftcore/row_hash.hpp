#pragma once
/// @file row_hash.hpp
/// @brief The mixing step of the 64-bit row hash used by exact-row leakage, and the
/// lookup of row hashes in a sorted set
/// (python/driftcore/job/rowhash.py canonicalizes each column to uint64 bits).
///
/// Over columns j = 0..m-1 with canonical bits b_j, starting from h = m:
///   h = (h ^ fmix64(b_j + (j + 1) * G)) * G,   then   hash = fmix64(h),
/// with G = 0x9E3779B97F4A7C15 and wrapping uint64 arithmetic. Saved states hold
/// these hashes, so the definition must never change.

#include <cstddef>
#include <cstdint>

#include "driftcore/common.hpp"

namespace driftcore {

/// @brief Mix column @p column_index (0-based) into the running row hashes, in place.
/// @param h running hashes, one per row
/// @param bits canonical bits of the column, one per row
/// @param n number of rows
/// @param column_index position of the column among the hashed columns
void row_hash_mix(std::uint64_t* h, const std::uint64_t* bits, std::size_t n,
                  std::uint64_t column_index) noexcept;

/// @brief row_hash_mix() of a numeric column's canonical bits, computed here: the
/// bits of double(v) + 0.0 (-0.0 as 0.0), or @p nan_bits for every NaN, for values of
/// any dtype (integers through double, as Arrow casts them). Nulls are the caller's (a
/// column with nulls goes through row_hash_mix()).
void row_hash_mix_values(std::uint64_t* h, const array_view& values, std::uint64_t column_index,
                         std::uint64_t nan_bits) noexcept;

/// @brief row_hash_mix() of a dictionary-coded column: entry i's canonical bits are
/// @p dict_bits[codes[i]].
/// @throws invalid_input (before changing @p h) when a code is outside [0, dict_size).
void row_hash_mix_codes(std::uint64_t* h, const std::uint64_t* dict_bits, std::size_t dict_size,
                        const array_view& codes, std::uint64_t column_index);

/// @brief Finish the running hashes in place (fmix64 of each).
void row_hash_finish(std::uint64_t* h, std::size_t n) noexcept;

/// @brief Bits of the bucket index of an ascending set of @p set_size hashes (top bits
/// of a value pick its bucket): four to eight values a bucket for uniform hashes.
int hash_bucket_bits(std::size_t set_size) noexcept;

/// @brief starts[b] for b = 0 .. 2^bits: the first position of @p set (ascending) whose
/// value's top @p bits bits are at least b (so starts[2^bits] == set_size).
void hash_bucket_starts(const std::uint64_t* set, std::size_t set_size, int bits,
                        std::uint64_t* starts) noexcept;

/// @brief out[i] = 1 when @p values[i] is in @p set (ascending, @p set_size values),
/// else 0, each looked up in its own bucket (@p starts from hash_bucket_starts() with
/// @p bits): one read of the index and one of a few neighbouring set values. Starts
/// are clamped to the set, so bad starts give wrong answers, never a bad read.
void sorted_member(const std::uint64_t* values, std::size_t n, const std::uint64_t* set,
                   std::size_t set_size, const std::uint64_t* starts, int bits,
                   std::uint8_t* out) noexcept;

}  // namespace driftcore
