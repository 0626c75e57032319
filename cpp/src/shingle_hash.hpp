#pragma once
// The MinHash definition, shared verbatim by the CPU and CUDA kernels so that both give
// the same signatures bit for bit. Every constant here is part of the stored-index
// format ("minhash v1"): changing one changes every signature (tests pin a few).
//
//   unit hash   words: hash_bytes(word bytes); characters: murmur_mix(code point + kChar);
//               token ids: murmur_mix(id + kToken)
//   shingle     fold of n consecutive unit hashes; a document with 1 <= units < n
//               gives one shingle, the fold of all its units
//   sketch      one-permutation hashing with independent fallbacks, K = num_perm slots:
//               shingle hash h goes to slot j = ((h >> 32) * K) >> 32 with rank
//               (h mod 2^32) >> 1; a slot holds its smallest rank (< 2^31). A slot
//               no shingle reached holds 2^31 | (f_j >> 1), where f_j is the minimum
//               over all the document's shingles of (a_j * (h >> 32) + b_j) mod 2^32
//               (a_j odd; (a_j, b_j) from SplitMix64 seeded with the user's seed).
//               A document without shingles is 0xFFFFFFFF everywhere.
//
// Each slot matches between two documents with probability exactly their Jaccard
// similarity: a slot filled in the union holds the union's smallest rank there, a
// shared shingle or not; a slot empty in both falls back to an independent classic
// MinHash permutation; a slot filled in one document only cannot match (the high bit
// tells the two kinds apart). Filled slots sample shingles without replacement, so
// the estimate's variance is at most the classic J(1-J)/K, and far below it for
// documents of a few hundred shingles. Cost: one update per shingle, plus one
// multiply-add per shingle and empty slot.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "host_device.hpp"

namespace driftcore::detail {

constexpr std::uint64_t kGolden = kGoldenGamma;
constexpr std::uint64_t kMul = 0xD6E8FEB86659FD93ull;
constexpr std::uint64_t kChar = 0x243F6A8885A308D3ull;
constexpr std::uint64_t kToken = 0x13198A2E03707344ull;
constexpr std::uint32_t kEmptySlot = 0xFFFFFFFFu;

DC_HD std::uint64_t rotl64(std::uint64_t x, int r) {
  return (x << r) | (x >> (64 - r));
}

// SplitMix64 output number i of the stream seeded with `seed`.
DC_HD std::uint64_t splitmurmur_mix(std::uint64_t seed, std::uint64_t i) {
  return splitmix_mix(seed + (i + 1) * kGolden);
}

DC_HD void perm_params(std::uint64_t seed, std::uint32_t i, std::uint32_t* a, std::uint32_t* b) {
  const std::uint64_t r = splitmurmur_mix(seed, i);
  *a = static_cast<std::uint32_t>(r >> 32) | 1u;
  *b = static_cast<std::uint32_t>(r);
}

DC_HD std::uint64_t hash_step(std::uint64_t h, std::uint64_t w) {
  h = (h ^ w) * kMul;
  return rotl64(h, 29) * kGolden;
}

// Little-endian value of p[0..len), len <= 8; `room` bytes are readable from p, so a
// full 8-byte load is used when it stays inside them.
DC_HD std::uint64_t load_le(const std::uint8_t* p, std::size_t len, std::size_t room) {
  std::uint64_t w = 0;
#if !defined(__CUDA_ARCH__) && (defined(__x86_64__) || defined(_M_X64))
  if (room >= 8) {
    std::memcpy(&w, p, 8);
    return len >= 8 ? w : w & ((std::uint64_t{1} << (8 * len)) - 1);
  }
#else
  (void)room;
#endif
  for (std::size_t k = 0; k < len; ++k) w |= static_cast<std::uint64_t>(p[k]) << (8 * k);
  return w;
}

// ASCII 'A'-'Z' bytes of an 8-byte word made lowercase; other bytes (UTF-8 included)
// unchanged. Python lowercases non-ASCII documents with Arrow first; ASCII documents
// are lowercased here, identically and without a copy.
DC_HD std::uint64_t ascii_lower(std::uint64_t w) {
  constexpr std::uint64_t low7 = 0x7F7F7F7F7F7F7F7Full, high = 0x8080808080808080ull;
  const std::uint64_t seven = w & low7;
  const std::uint64_t from_a = seven + 0x3F3F3F3F3F3F3F3Full;  // high bit set where >= 'A'
  const std::uint64_t past_z = seven + 0x2525252525252525ull;  // high bit set where > 'Z'
  const std::uint64_t upper = from_a & ~past_z & ~w & high;
  return w | (upper >> 2);
}

// Hash of a byte string: 8-byte little-endian words through hash_step. No finalizer:
// a word hash only ever enters a shingle hash, which ends with murmur_mix.
DC_HD std::uint64_t hash_bytes(const std::uint8_t* p, std::size_t len, std::size_t room,
                               bool lower) {
  std::uint64_t h = kGolden ^ (static_cast<std::uint64_t>(len) * kMul);
  std::size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    const std::uint64_t w = load_le(p + i, 8, room - i);
    h = hash_step(h, lower ? ascii_lower(w) : w);
  }
  if (i < len) {
    const std::uint64_t w = load_le(p + i, len - i, room - i);
    h = hash_step(h, lower ? ascii_lower(w) : w);
  }
  return h ^ (h >> 31);
}

DC_HD std::uint64_t char_hash(std::uint32_t cp) {
  return murmur_mix(cp + kChar);
}
DC_HD std::uint64_t token_hash(std::uint64_t id) {
  return murmur_mix(id + kToken);
}

// Shingle hash of `count` unit hashes u[0..count), read from a ring of capacity `cap`
// starting at `start` (the unit window of a streaming tokenizer): a sum of the units
// times distinct odd constants (independent multiplies, so cheap), then murmur_mix.
DC_HD std::uint64_t fold_units(const std::uint64_t* ring, std::uint32_t cap, std::uint32_t start,
                               std::uint32_t count) {
  std::uint64_t h = static_cast<std::uint64_t>(count) * kGolden;
  for (std::uint32_t j = 0; j < count; ++j) {
    std::uint32_t k = start + j;
    if (k >= cap) k -= cap;
    h += ring[k] * (kMul + 2 * static_cast<std::uint64_t>(j) * kGolden);
  }
  return murmur_mix(h);
}

DC_HD std::uint32_t shingle_key(std::uint64_t shingle_hash) {
  return static_cast<std::uint32_t>(shingle_hash >> 32);
}

DC_HD std::uint32_t slot_of(std::uint64_t h, std::uint32_t slots) {
  return static_cast<std::uint32_t>(((h >> 32) * slots) >> 32);
}

DC_HD std::uint32_t rank_of(std::uint64_t h) {
  return static_cast<std::uint32_t>(h) >> 1;
}

constexpr std::uint32_t kFallbackTag = 0x80000000u;

DC_HD std::uint32_t fallback_value(std::uint32_t f) {
  return kFallbackTag | (f >> 1);
}

// Decode one UTF-8 code point at p[0..avail). Invalid or truncated sequences,
// overlong forms and surrogates decode one byte as 0xDC00 + byte (Python's
// "surrogateescape"), so any byte string has exactly one deterministic reading.
DC_HD std::uint32_t decode_utf8(const std::uint8_t* p, std::size_t avail, std::uint32_t* len) {
  const std::uint32_t c = p[0];
  if (c < 0x80) {
    *len = 1;
    return c;
  }
  std::uint32_t need, cp, min;
  if ((c & 0xE0) == 0xC0) {
    need = 1, cp = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    need = 2, cp = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    need = 3, cp = c & 0x07, min = 0x10000;
  } else {
    *len = 1;
    return 0xDC00 + c;
  }
  if (avail <= need) {
    *len = 1;
    return 0xDC00 + c;
  }
  for (std::uint32_t k = 1; k <= need; ++k) {
    const std::uint32_t t = p[k];
    if ((t & 0xC0) != 0x80) {
      *len = 1;
      return 0xDC00 + c;
    }
    cp = (cp << 6) | (t & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    *len = 1;
    return 0xDC00 + c;
  }
  *len = need + 1;
  return cp;
}

DC_HD constexpr bool is_space(std::uint32_t cp) {
  if (cp < 0x80) return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D);
  return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
         cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

// Punctuation and symbols folded away with fold_punctuation: ASCII punctuation, the
// Latin-1 punctuation and symbols, the General Punctuation block, CJK punctuation,
// and the fullwidth ASCII punctuation.
DC_HD constexpr bool is_punct(std::uint32_t cp) {
  if (cp < 0x80)
    return (cp >= 0x21 && cp <= 0x2F) || (cp >= 0x3A && cp <= 0x40) || (cp >= 0x5B && cp <= 0x60) ||
           (cp >= 0x7B && cp <= 0x7E);
  if (cp >= 0xA1 && cp <= 0xBF)
    return cp != 0xAA && cp != 0xB2 && cp != 0xB3 && cp != 0xB5 && cp != 0xB9 && cp != 0xBA &&
           cp != 0xBC && cp != 0xBD && cp != 0xBE;
  if (cp == 0xD7 || cp == 0xF7) return true;
  if (cp >= 0x2010 && cp <= 0x205E) return cp != 0x2028 && cp != 0x2029 && cp != 0x202F;
  if (cp >= 0x3001 && cp <= 0x303F) return true;
  return (cp >= 0xFF01 && cp <= 0xFF0F) || (cp >= 0xFF1A && cp <= 0xFF20) ||
         (cp >= 0xFF3B && cp <= 0xFF40) || (cp >= 0xFF5B && cp <= 0xFF65);
}

DC_HD constexpr bool is_separator(std::uint32_t cp, bool fold_punctuation) {
  return is_space(cp) || (fold_punctuation && is_punct(cp));
}

// ASCII separators as bit masks over code points 0-63 and 64-127 (no table in memory,
// so the same code runs on the GPU).
struct ascii_separators {
  std::uint64_t lo, hi;
  DC_HD constexpr explicit ascii_separators(bool fold_punctuation)
      : lo(fold_punctuation ? 0xFC00FFFF00003E00ull : 0x0000000100003E00ull),
        hi(fold_punctuation ? 0x78000001F8000001ull : 0) {}
  DC_HD constexpr bool operator()(std::uint32_t c) const {
    return ((c < 64 ? lo : hi) >> (c & 63)) & 1;
  }
};

// Streaming shingler: feed unit hashes one at a time; emits shingle hashes through
// `emit` once n units are in the window, and the short-document shingle at the end.
template <std::uint32_t Cap>
struct unit_window {
  std::uint64_t ring[Cap];
  std::uint32_t n, filled = 0, head = 0;
  std::uint64_t emitted = 0;
  DC_HD explicit unit_window(std::uint32_t n_) : n(n_) {}
  template <class Emit>
  DC_HD void push(std::uint64_t u, Emit& emit) {
    ring[head] = u;
    head = head + 1 == n ? 0 : head + 1;
    if (filled < n) ++filled;
    if (filled == n) {
      emit(fold_units(ring, n, head, n));  // head is now the oldest unit
      ++emitted;
    }
  }
  template <class Emit>
  DC_HD void finish(Emit& emit) {
    if (filled > 0 && filled < n) {
      emit(fold_units(ring, n, 0, filled));
      ++emitted;
    }
  }
};

constexpr std::uint32_t kMaxShingleUnits = 32;

// Tokenize one document and emit its shingle hashes. unit: 0 words, 1 characters.
// Characters: runs of separators become one space and leading/trailing separators are
// dropped, so "a  b" and "a b" shingle alike.
template <class Emit>
DC_HD std::uint64_t shingle_text(const std::uint8_t* p, std::size_t len, int unit, std::uint32_t n,
                                 bool fold_punctuation, bool lower, Emit& emit) {
  unit_window<kMaxShingleUnits> win(n);
  std::size_t i = 0;
  const ascii_separators ascii(fold_punctuation);
  if (unit == 0) {
    std::size_t word = 0;
    bool in_word = false;
    while (i < len) {
      std::uint32_t l = 1;
      const std::uint32_t c = p[i];
      const bool sep =
          c < 0x80 ? ascii(c) : is_separator(decode_utf8(p + i, len - i, &l), fold_punctuation);
      if (sep && in_word) win.push(hash_bytes(p + word, i - word, len - word, lower), emit);
      if (!sep && !in_word) word = i;
      in_word = !sep;
      i += l;
    }
    if (in_word) win.push(hash_bytes(p + word, len - word, len - word, lower), emit);
  } else {
    bool pending_space = false, any = false;
    while (i < len) {
      std::uint32_t l;
      const std::uint32_t cp = decode_utf8(p + i, len - i, &l);
      i += l;
      if (is_separator(cp, fold_punctuation)) {
        pending_space = any;
        continue;
      }
      if (pending_space) win.push(char_hash(0x20), emit);
      pending_space = false;
      any = true;
      win.push(char_hash(lower && cp >= 'A' && cp <= 'Z' ? cp + 32 : cp), emit);
    }
  }
  win.finish(emit);
  return win.emitted;
}

}  // namespace driftcore::detail

namespace driftcore::detail {

// LSH band key of `rows` signature values starting at sig[band * rows]; the band number
// is folded in so that equal values in different bands never share a key.
DC_HD std::uint64_t band_key(const std::uint32_t* sig, std::uint32_t band, std::uint32_t rows) {
  std::uint64_t h = (static_cast<std::uint64_t>(band) + 1) * kGolden;
  const std::uint32_t* v = sig + static_cast<std::size_t>(band) * rows;
  std::uint32_t j = 0;
  for (; j + 2 <= rows; j += 2)
    h = hash_step(h, v[j] | (static_cast<std::uint64_t>(v[j + 1]) << 32));
  if (j < rows) h = hash_step(h, v[j]);
  return murmur_mix(h);
}

}  // namespace driftcore::detail

namespace driftcore::detail {

// The GPU's warp algorithm (cuda/minhash.cu): lane l of 32 owns slots base + l + 32 k,
// k < kLanePerms, of a pass over kPassPerms slots; a second walk over the document,
// when any lane of the warp has an empty slot, fills those slots' fallbacks. Here, so
// that the CPU tests can run the same code one lane at a time (minhash_text_lanes).
constexpr int kLanePerms = 4;
constexpr std::uint32_t kPassPerms = 32 * kLanePerms;

// The slots lane `lane` owns in the pass starting at slot `base`: base + lane + 32 k.
struct lane_slots {
  std::uint32_t first, slots;
  std::uint32_t lo[kLanePerms];
  DC_HD lane_slots(std::uint32_t first_, std::uint32_t slots_) : first(first_), slots(slots_) {
    for (int k = 0; k < kLanePerms; ++k) lo[k] = kEmptySlot;
  }
  DC_HD bool owns(int k) const { return first + 32 * k < slots; }
  DC_HD void operator()(std::uint64_t h) {
    const std::uint32_t j = slot_of(h, slots), r = rank_of(h);
    for (int k = 0; k < kLanePerms; ++k)
      if (j == first + 32 * k && r < lo[k]) lo[k] = r;
  }
  DC_HD bool any_empty() const {
    bool e = false;
    for (int k = 0; k < kLanePerms; ++k) e |= owns(k) && lo[k] == kEmptySlot;
    return e;
  }
};

// Fallback permutations of the empty slots a lane owns.
struct lane_fallback {
  std::uint32_t a[kLanePerms], b[kLanePerms], lo[kLanePerms];
  bool on[kLanePerms];
  DC_HD lane_fallback(const lane_slots& s, std::uint64_t seed) {
    for (int k = 0; k < kLanePerms; ++k) {
      on[k] = s.owns(k) && s.lo[k] == kEmptySlot;
      a[k] = b[k] = 0;
      if (on[k]) perm_params(seed, s.first + 32 * k, &a[k], &b[k]);
      lo[k] = kEmptySlot;
    }
  }
  DC_HD void operator()(std::uint64_t h) {
    const std::uint32_t x = shingle_key(h);
    for (int k = 0; k < kLanePerms; ++k) {
      const std::uint32_t v = a[k] * x + b[k];
      if (on[k] && v < lo[k]) lo[k] = v;
    }
  }
};

DC_HD void store_lane(const lane_slots& s, const lane_fallback* f, std::uint32_t* row) {
  for (int k = 0; k < kLanePerms; ++k) {
    if (!s.owns(k)) continue;
    const bool fell = f && f->on[k];
    row[s.first + 32 * k] = fell ? fallback_value(f->lo[k]) : s.lo[k];
  }
}

// The GPU's other algorithm, for short documents: one lane sketches a whole document
// into its signature row (a warp, 32 documents side by side). A walk fills the slots;
// when some are empty, a second walk keeps each empty slot's fallback in the row
// itself: fallback_value() grows with its argument and lies above every rank, so the
// row's running minimum is the fallback of the minimum.
constexpr std::uint32_t kRowMaxPerm = 256;
constexpr std::size_t kRowMaxUnits = 4096;  // bytes of a text, ids of a token sequence

// Whether the device sketches a document of `units` bytes (or ids) a lane to a row.
DC_HD bool sketched_by_row(std::size_t units, std::uint32_t num_perm) {
  return num_perm <= kRowMaxPerm && units <= kRowMaxUnits;
}

struct row_slots {
  std::uint32_t* row;
  std::uint32_t slots;
  DC_HD void operator()(std::uint64_t h) {
    const std::uint32_t j = slot_of(h, slots), r = rank_of(h);
    if (r < row[j]) row[j] = r;
  }
};

struct row_fallback {
  std::uint32_t* row;
  const std::uint32_t *a, *b;
  const std::uint16_t* empty;
  std::uint32_t count;
  DC_HD void operator()(std::uint64_t h) {
    const std::uint32_t x = shingle_key(h);
    for (std::uint32_t e = 0; e < count; ++e) {
      const std::uint32_t j = empty[e], v = fallback_value(a[j] * x + b[j]);
      if (v < row[j]) row[j] = v;
    }
  }
};

// `walk(emit)` feeds a document's shingle hashes to emit and returns their count;
// (a, b) are the slots' fallback permutations; `empty` holds up to `slots` indices.
template <class Walk>
DC_HD void sketch_row(const Walk& walk, std::uint32_t* row, std::uint32_t slots,
                      const std::uint32_t* a, const std::uint32_t* b, std::uint16_t* empty) {
  for (std::uint32_t j = 0; j < slots; ++j) row[j] = kEmptySlot;
  row_slots fill{row, slots};
  if (walk(fill) == 0) return;  // no shingle: every slot stays empty
  std::uint32_t count = 0;
  for (std::uint32_t j = 0; j < slots; ++j)
    if (row[j] == kEmptySlot) empty[count++] = static_cast<std::uint16_t>(j);
  if (count == 0) return;
  row_fallback fall{row, a, b, empty, count};
  walk(fall);
}

}  // namespace driftcore::detail
