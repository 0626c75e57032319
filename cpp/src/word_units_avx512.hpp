#pragma once
// The text paths of the MinHash kernels vectorized for x86-64 with AVX-512: the word
// path of detail::shingle_text (the same word and shingle hashes bit for bit) and the
// non-ASCII scan. Tests compare each with the portable code.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace driftcore::detail {

/// Word hashes (hash_bytes of each word) of document p[0..len), in order, written to
/// `units`. `room` >= len bytes are readable from p (the rest of the text buffer), so
/// 8-byte loads may run past the document. len must be below 2^32.
void word_units_avx512(const std::uint8_t* p, std::size_t len, std::size_t room,
                       bool fold_punctuation, bool lower, std::vector<std::uint64_t>& units);

/// The shingle hashes (fold_units over each window of n units) of u[0..m) written to
/// out (room for max(m - n + 1, 1) values); returns their number.
std::size_t fold_units_avx512(const std::uint64_t* u, std::size_t m, std::uint32_t n,
                              std::uint64_t* out);

/// True when p[0..len) holds a byte >= 0x80.
bool any_high_byte_avx512(const std::uint8_t* p, std::size_t len);

}  // namespace driftcore::detail
