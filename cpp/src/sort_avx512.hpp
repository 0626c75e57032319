#pragma once
// A merge sort of 64-bit keys vectorized with AVX-512: each 8-key vector sorted by a
// bitonic network in its register, then runs merged 8 keys at a time by bitonic
// merges. Any correct sort gives the same output; on the few thousand keys of a
// quantile sketch's buffer, key conversion included, it takes about two thirds of
// the radix sort's time.
#include <cstddef>
#include <cstdint>

namespace driftcore::detail {

/// (Where detail::use_avx512().) Sort keys[0..n) ascending (unsigned), n a multiple of 8, using
/// tmp[0..n) as scratch; keys[-1], keys[n], tmp[-1] and tmp[n] must be readable. Returns the buffer
/// that holds the result: keys or tmp.
std::uint64_t* sort_keys_avx512(std::uint64_t* keys, std::size_t n, std::uint64_t* tmp);

}  // namespace driftcore::detail
