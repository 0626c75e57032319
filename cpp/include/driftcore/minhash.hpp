#pragma once
/// @file minhash.hpp
/// @brief MinHash signatures of text (Arrow layout) and token-id sequences, and the
/// exact shingle sets used to verify candidate pairs. The definition is in
/// src/shingle_hash.hpp and is shared with the CUDA kernel.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "driftcore/common.hpp"

namespace driftcore {

/// @brief What a shingle is made of.
enum class shingle_unit : std::uint8_t { word = 0, character = 1, token = 2 };

/// @brief Shingling and permutation settings (everything a signature depends on
/// besides the input; text normalization happens before, in Python).
struct minhash_spec {
  shingle_unit unit = shingle_unit::word;
  std::uint32_t n = 5;           ///< units per shingle, 1..32
  bool fold_punctuation = true;  ///< punctuation separates words like whitespace
  bool lowercase_ascii = false;  ///< fold ASCII 'A'-'Z' (Python lowercases the rest)
  std::uint32_t num_perm = 128;  ///< signature length, a multiple of 16 up to 4096
  std::uint64_t seed = 1;
};

/// @brief Throws invalid_input unless @p s is usable.
void check_spec(const minhash_spec& s);

/// @brief Documents in Arrow layout: doc i is bytes [offsets[i], offsets[i+1]).
struct text_view {
  const std::uint8_t* bytes = nullptr;
  const std::int64_t* offsets = nullptr;  ///< n_docs + 1 entries, non-decreasing
  std::size_t n_docs = 0;
  std::size_t n_bytes = 0;  ///< size of the bytes buffer, for checking offsets
};

/// @brief Token-id sequences: doc i is ids [offsets[i], offsets[i+1]) of an integer array.
struct token_view {
  array_view ids;
  const std::int64_t* offsets = nullptr;
  std::size_t n_docs = 0;
};

/// @brief Throws invalid_input unless offsets start at >= 0, never decrease and stay
/// within the data.
void check_offsets(const std::int64_t* offsets, std::size_t n_docs, std::size_t n_data);

/// @brief Signatures (n_docs x num_perm, row-major) and per-document shingle counts
/// (occurrences, not distinct). Results do not depend on @p threads.
void minhash_text(const text_view& docs, const minhash_spec& spec, std::uint32_t* signatures,
                  std::uint64_t* shingle_counts, int threads);
void minhash_tokens(const token_view& docs, const minhash_spec& spec, std::uint32_t* signatures,
                    std::uint64_t* shingle_counts, int threads);

/// @brief The GPU kernels' algorithms run on the CPU, one lane at a time, each document
/// by the one the device gives it (a lane a short document, a warp a long one); slow,
/// for tests: it must equal minhash_text.
void minhash_text_lanes(const text_view& docs, const minhash_spec& spec, std::uint32_t* signatures);

/// @brief Sorted, distinct 64-bit shingle hashes per document (flat + offsets).
struct shingle_sets {
  std::vector<std::uint64_t> hashes;
  std::vector<std::int64_t> offsets;
};
shingle_sets text_shingle_sets(const text_view& docs, const minhash_spec& spec, int threads);
shingle_sets token_shingle_sets(const token_view& docs, const minhash_spec& spec, int threads);

/// @brief out[d] = 1 when document d holds a byte >= 0x80 (needs Unicode normalization).
void non_ascii_documents(const text_view& docs, std::uint8_t* out, int threads);

/// @brief The (a_i, b_i) of every permutation, for the GPU kernel and for tests.
void perm_params(const minhash_spec& spec, std::uint32_t* a, std::uint32_t* b);

/// @brief GPU signatures of device-resident documents (all pointers are device
/// memory; offsets already checked by the caller), enqueued on @p stream. Identical to
/// minhash_text / minhash_tokens. Token ids are int64 (sign-extended by the caller).
/// @throws std::runtime_error on a CUDA error or in a build without CUDA.
void minhash_text_device(const std::uint8_t* bytes, const std::int64_t* offsets, std::size_t n_docs,
                         const minhash_spec& spec, std::uint32_t* signatures,
                         std::uintptr_t stream);
void minhash_tokens_device(const std::int64_t* ids, const std::int64_t* offsets, std::size_t n_docs,
                           const minhash_spec& spec, std::uint32_t* signatures,
                           std::uintptr_t stream);

}  // namespace driftcore
