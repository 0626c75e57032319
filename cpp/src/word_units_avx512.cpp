// Word hashes in two branch-light passes. Pass 1 finds word starts and ends 64 bytes at
// a time (separator bitmap lookup, then the positions compressed out of the masks, so
// there is no per-word branch); a block holding a non-ASCII byte takes the portable
// per-character walk. Pass 2 hashes 8 words per vector: a gathered 8-byte load per
// word and step, masked to the word's length, through hash_step's multiplies.
#include "word_units_avx512.hpp"

#include "driftcore/cancel.hpp"
#include "shingle_hash.hpp"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
// GCC 12's AVX-512 headers trip these inside their own intrinsics.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

namespace driftcore::detail {

#if defined(__x86_64__) || defined(_M_X64)

namespace {

constexpr std::size_t kSlack = 16;                         // pass 1 stores 16 positions at a time
constexpr std::size_t kKeepBounds = std::size_t{1} << 22;  // 16 MB of positions

// Word boundaries of p[0..len): start, end (exclusive), start, end, ... in order (they
// alternate, as a start is a word byte and an end a separator), so word k is the pair
// at bounds[2k]. Returns the word count; bounds has room for len + 2 + kSlack values.
__attribute__((target("avx512f,avx512bw"))) std::size_t word_bounds(const std::uint8_t* p,
                                                                    std::size_t len, bool fold,
                                                                    std::uint32_t* bounds,
                                                                    bool* any_upper) {
  const ascii_separators ascii(fold);
  alignas(16) std::uint8_t bitmap[16], bit[16];
  for (int k = 0; k < 16; ++k) {
    bitmap[k] =
        static_cast<std::uint8_t>((k < 8 ? ascii.lo >> (8 * k) : ascii.hi >> (8 * (k - 8))) & 0xFF);
    bit[k] = static_cast<std::uint8_t>(1u << (k & 7));
  }
  const __m512i tbl =
      _mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(bitmap)));
  const __m512i bits =
      _mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(bit)));
  const __m512i low4 = _mm512_set1_epi8(0x0F), low3 = _mm512_set1_epi8(0x07);
  const __m512i upper_a = _mm512_set1_epi8('A'), letters = _mm512_set1_epi8(26);
  const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  std::size_t i = 0, nb = 0;
  bool in_word = false, upper = false;
  std::size_t blocks = 0;
  while (i < len) {
    if ((++blocks & 0xFFFF) == 0) throw_if_cancelled();  // every 4 MB
    const std::size_t m = len - i < 64 ? len - i : 64;
    const __mmask64 live = m == 64 ? ~__mmask64{0} : ((__mmask64{1} << m) - 1);
    const __m512i v = _mm512_maskz_loadu_epi8(live, p + i);
    upper |= _mm512_cmplt_epu8_mask(_mm512_sub_epi8(v, upper_a), letters) != 0;
    if (_mm512_movepi8_mask(v) & live) {
      for (const std::size_t stop = i + m; i < stop;) {
        std::uint32_t l = 1;
        const std::uint32_t c = p[i];
        const bool sep = c < 0x80 ? ascii(c) : is_separator(decode_utf8(p + i, len - i, &l), fold);
        if (sep == in_word) bounds[nb++] = static_cast<std::uint32_t>(i);
        in_word = !sep;
        i += l;
      }
      continue;
    }
    const __m512i row = _mm512_shuffle_epi8(tbl, _mm512_and_si512(_mm512_srli_epi16(v, 3), low4));
    const __m512i col = _mm512_shuffle_epi8(bits, _mm512_and_si512(v, low3));
    const std::uint64_t sep = _mm512_test_epi8_mask(row, col) | ~live;  // past the end: separators
    const std::uint64_t word = ~sep;
    // A boundary is a byte whose kind differs from the byte before it.
    const std::uint64_t edges = (word ^ ((word << 1) | (in_word ? 1 : 0)));
    for (int q = 0; q < 4; ++q) {
      const auto eq = static_cast<__mmask16>(edges >> (16 * q));
      const __m512i at = _mm512_add_epi32(iota, _mm512_set1_epi32(static_cast<int>(i + 16 * q)));
      _mm512_storeu_si512(bounds + nb, _mm512_maskz_compress_epi32(eq, at));
      nb += static_cast<std::size_t>(__builtin_popcount(eq));
    }
    in_word = word >> 63;  // a short last block ends in separators
    i += m;
  }
  if (in_word) bounds[nb++] = static_cast<std::uint32_t>(len);
  *any_upper = upper;
  return nb / 2;
}

__attribute__((target("avx512f,avx512dq"))) __m512i ascii_lower8(__m512i w) {
  const __m512i seven = _mm512_and_si512(w, _mm512_set1_epi64(0x7F7F7F7F7F7F7F7Fll));
  const __m512i from_a = _mm512_add_epi64(seven, _mm512_set1_epi64(0x3F3F3F3F3F3F3F3Fll));
  const __m512i past_z = _mm512_add_epi64(seven, _mm512_set1_epi64(0x2525252525252525ll));
  const __m512i high = _mm512_set1_epi64(static_cast<long long>(0x8080808080808080ull));
  // from_a & ~past_z & ~w & high, as in ascii_lower
  const __m512i upper =
      _mm512_andnot_si512(w, _mm512_andnot_si512(past_z, _mm512_and_si512(from_a, high)));
  return _mm512_or_si512(w, _mm512_srli_epi64(upper, 2));
}

// hash_bytes of the words [bounds[2k], bounds[2k + 1]) of p, 8 at a time.
__attribute__((target("avx512f,avx512dq"))) void hash_words(const std::uint8_t* p, std::size_t room,
                                                            const std::uint32_t* bounds,
                                                            std::size_t count, bool lower,
                                                            std::uint64_t* out) {
  const __m512i mul = _mm512_set1_epi64(static_cast<long long>(kMul));
  const __m512i golden = _mm512_set1_epi64(static_cast<long long>(kGolden));
  const __m512i ones = _mm512_set1_epi64(-1), eight = _mm512_set1_epi64(8);
  const __m512i readable = _mm512_set1_epi64(static_cast<long long>(room));
  for (std::size_t k = 0; k < count; k += 8) {
    if ((k & 0xFFFF) == 0) throw_if_cancelled();
    const __mmask8 lanes = count - k >= 8 ? 0xFF : static_cast<__mmask8>((1u << (count - k)) - 1);
    const __m512i pair = _mm512_maskz_loadu_epi64(lanes, bounds + 2 * k);  // end << 32 | start
    const __m512i st = _mm512_and_si512(pair, _mm512_set1_epi64(0xFFFFFFFFll));
    const __m512i len = _mm512_sub_epi64(_mm512_srli_epi64(pair, 32), st);
    __m512i h = _mm512_xor_si512(golden, _mm512_mullo_epi64(len, mul));
    __m512i off = st, rem = len;  // rem > 0 on active lanes
    __mmask8 active = lanes, unsafe = 0;
    while (active) {
      // An 8-byte load that would pass the end of the buffer is left to the scalar code.
      const __mmask8 over =
          _mm512_mask_cmpgt_epu64_mask(active, _mm512_add_epi64(off, eight), readable);
      unsafe |= over;
      __m512i w = _mm512_mask_i64gather_epi64(_mm512_setzero_si512(), active & ~over, off, p, 1);
      // Keep the word's remaining bytes: shifts of 64 or more give 0, so full words keep all.
      w = _mm512_andnot_si512(_mm512_sllv_epi64(ones, _mm512_slli_epi64(rem, 3)), w);
      if (lower) w = ascii_lower8(w);
      __m512i step = _mm512_mullo_epi64(_mm512_xor_si512(h, w), mul);
      step = _mm512_mullo_epi64(_mm512_rol_epi64(step, 29), golden);
      h = _mm512_mask_mov_epi64(h, active, step);
      off = _mm512_add_epi64(off, eight);
      active = _mm512_mask_cmpgt_epu64_mask(active, rem, eight);
      rem = _mm512_sub_epi64(rem, eight);
    }
    h = _mm512_xor_si512(h, _mm512_srli_epi64(h, 31));
    _mm512_mask_storeu_epi64(out + k, lanes, h);
    for (; unsafe; unsafe &= static_cast<__mmask8>(unsafe - 1)) {
      const std::size_t w = k + static_cast<std::size_t>(__builtin_ctz(unsafe));
      const std::uint32_t start = bounds[2 * w], end = bounds[2 * w + 1];
      out[w] = hash_bytes(p + start, end - start, room - start, lower);
    }
  }
}

}  // namespace

void word_units_avx512(const std::uint8_t* p, std::size_t len, std::size_t room,
                       bool fold_punctuation, bool lower, std::vector<std::uint64_t>& units) {
  thread_local std::vector<std::uint32_t> bounds;
  if (bounds.size() < len + 2 + kSlack) bounds.resize(len + 2 + kSlack);
  bool any_upper = false;
  const std::size_t count = word_bounds(p, len, fold_punctuation, bounds.data(), &any_upper);
  units.resize(count);
  // Case folding is skipped for documents without A-Z (a no-op there).
  hash_words(p, room, bounds.data(), count, lower && any_upper, units.data());
  // The calling thread may be Python's own: do not keep a huge document's buffer.
  if (bounds.size() > kKeepBounds) std::vector<std::uint32_t>().swap(bounds);
}

__attribute__((target("avx512f,avx512bw"))) bool any_high_byte_avx512(const std::uint8_t* p,
                                                                      std::size_t len) {
  __m512i acc = _mm512_setzero_si512();
  std::size_t i = 0;
  for (; i + 64 <= len; i += 64) acc = _mm512_or_si512(acc, _mm512_loadu_si512(p + i));
  if (i < len)
    acc = _mm512_or_si512(acc, _mm512_maskz_loadu_epi8((__mmask64{1} << (len - i)) - 1, p + i));
  return _mm512_movepi8_mask(acc) != 0;
}

__attribute__((target("avx512f,avx512dq"))) std::size_t fold_units_avx512(const std::uint64_t* u,
                                                                          std::size_t m,
                                                                          std::uint32_t n,
                                                                          std::uint64_t* out) {
  if (m == 0) return 0;
  if (m < n) {
    out[0] = fold_units(u, static_cast<std::uint32_t>(m), 0, static_cast<std::uint32_t>(m));
    return 1;
  }
  // One pass per shingle position, so that each loop vectorizes; over blocks of 2^14
  // positions (cache-resident), with a cancellation check per block.
  const std::size_t count = m - n + 1;
  const std::uint64_t h0 = static_cast<std::uint64_t>(n) * kGolden;
  constexpr std::size_t kBlock = std::size_t{1} << 14;
  for (std::size_t b = 0; b < count; b += kBlock) {
    throw_if_cancelled();
    const std::size_t e = count - b < kBlock ? count : b + kBlock;
    for (std::size_t i = b; i < e; ++i) out[i] = h0;
    for (std::uint32_t j = 0; j < n; ++j) {
      const std::uint64_t k = kMul + 2 * static_cast<std::uint64_t>(j) * kGolden;
      const std::uint64_t* uj = u + j;
      for (std::size_t i = b; i < e; ++i) out[i] += uj[i] * k;
    }
    for (std::size_t i = b; i < e; ++i) out[i] = murmur_mix(out[i]);
  }
  return count;
}

#else

void word_units_avx512(const std::uint8_t*, std::size_t, std::size_t, bool, bool,
                       std::vector<std::uint64_t>&) {}
std::size_t fold_units_avx512(const std::uint64_t*, std::size_t, std::uint32_t, std::uint64_t*) {
  return 0;
}

#endif

}  // namespace driftcore::detail
