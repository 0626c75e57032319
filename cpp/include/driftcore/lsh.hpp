#pragma once
/// @file lsh.hpp
/// @brief Banded LSH over MinHash signatures: band keys, candidate pairs by hash join,
/// and the two verifications (signature agreement, exact shingle-set overlap).

#include <cstddef>
#include <cstdint>
#include <vector>

namespace driftcore {

/// @brief Keys (n_docs x bands, row-major) of bands of @p rows values each.
void band_keys(const std::uint32_t* signatures, std::size_t n_docs, std::uint32_t num_perm,
               std::uint32_t bands, std::uint32_t rows, std::uint64_t* keys, int threads);

/// @brief Candidate pairs, sorted and distinct, packed as (left << 32) | right.
/// Cross join: left indexes @p probe, right indexes @p build, a pair when any band key
/// matches. Documents whose @p valid flag is 0 (no shingles) never pair. Throws
/// invalid_input when one band alone yields more than @p max_pairs pairs (large groups
/// of identical documents), rather than running out of memory.
std::vector<std::uint64_t> lsh_cross_pairs(const std::uint64_t* build,
                                           const std::uint8_t* build_valid, std::size_t n_build,
                                           const std::uint64_t* probe,
                                           const std::uint8_t* probe_valid, std::size_t n_probe,
                                           std::uint32_t bands, std::size_t max_pairs, int threads);

/// @brief Self join within one set: pairs (i, j) with i < j.
std::vector<std::uint64_t> lsh_self_pairs(const std::uint64_t* keys, const std::uint8_t* valid,
                                          std::size_t n, std::uint32_t bands, std::size_t max_pairs,
                                          int threads);

/// @brief Number of equal signature positions for each pair (left[p] of @p a, right[p] of @p b).
/// Indices are checked against @p n_a and @p n_b.
void signature_agreement(const std::uint32_t* a, std::size_t n_a, const std::uint32_t* b,
                         std::size_t n_b, std::uint32_t num_perm, const std::int64_t* left,
                         const std::int64_t* right, std::size_t n_pairs, std::uint32_t* agree,
                         int threads);

/// @brief Size of the intersection of sorted distinct sets, for each pair.
void set_intersections(const std::uint64_t* a, const std::int64_t* a_offsets, std::size_t n_a,
                       const std::uint64_t* b, const std::int64_t* b_offsets, std::size_t n_b,
                       const std::int64_t* left, const std::int64_t* right, std::size_t n_pairs,
                       std::uint64_t* out, int threads);

/// @brief band_keys() of device-resident @p signatures into device @p keys, enqueued on
/// @p stream (a cudaStream_t as an integer). Keys equal band_keys()'s.
/// @throws invalid_input on bad bands x rows; std::runtime_error on a CUDA error or in a
/// build without CUDA.
void band_keys_device(const std::uint32_t* signatures, std::size_t n_docs, std::uint32_t num_perm,
                      std::uint32_t bands, std::uint32_t rows, std::uint64_t* keys,
                      std::uintptr_t stream);

}  // namespace driftcore
