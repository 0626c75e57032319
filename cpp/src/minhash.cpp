// MinHash signatures: tokenize and fold shingles per document (shingle_hash.hpp), then
// take the per-permutation minimum over the document's 32-bit shingle keys.
#include "driftcore/minhash.hpp"

#include <immintrin.h>

#include <algorithm>
#include <string>
#include <type_traits>
#include <vector>

#include "driftcore/threading.hpp"
#include "shingle_hash.hpp"

namespace driftcore {
namespace {

using detail::kEmptySlot;

bool simd_enabled = true;  // tests switch it off to compare with the portable paths

// Documents per scheduling block: fixed, so the split never depends on the thread count
// (each document's signature is independent anyway).
constexpr std::size_t kDocGrain = 256;

struct perm_table {
  std::vector<std::uint32_t> a, b;
  perm_table() = default;
  explicit perm_table(const minhash_spec& s) : a(s.num_perm), b(s.num_perm) {
    perm_params(s, a.data(), b.data());
  }
};

// Per-thread buffers of one document's sketch.
struct sketch_scratch {
  std::vector<std::uint64_t> hashes;
  std::vector<std::uint32_t> keys, empty, minima;
  perm_table fallback;
};

void min_keys_scalar(const std::uint32_t* keys, std::size_t m, const perm_table& p,
                     std::uint32_t* out) {
  const std::size_t k = p.a.size();
  for (std::size_t i = 0; i < k; ++i) {
    std::uint32_t lo = kEmptySlot;
    const std::uint32_t a = p.a[i], b = p.b[i];
    for (std::size_t j = 0; j < m; ++j) lo = std::min(lo, a * keys[j] + b);
    out[i] = lo;
  }
}

#if defined(__x86_64__) || defined(_M_X64)
// V vectors of 16 permutations each stay in registers while every key streams by.
template <int V>
__attribute__((target("avx512f"))) void min_keys_block(const std::uint32_t* keys, std::size_t m,
                                                       const std::uint32_t* a,
                                                       const std::uint32_t* b,
                                                       std::uint32_t* out) {
  __m512i lo[V], av[V], bv[V];
  for (int v = 0; v < V; ++v) {
    lo[v] = _mm512_set1_epi32(-1);
    av[v] = _mm512_loadu_si512(a + 16 * v);
    bv[v] = _mm512_loadu_si512(b + 16 * v);
  }
  for (std::size_t j = 0; j < m; ++j) {
    const __m512i x = _mm512_set1_epi32(static_cast<int>(keys[j]));
    for (int v = 0; v < V; ++v)
      lo[v] = _mm512_min_epu32(lo[v], _mm512_add_epi32(_mm512_mullo_epi32(av[v], x), bv[v]));
  }
  for (int v = 0; v < V; ++v) _mm512_storeu_si512(out + 16 * v, lo[v]);
}

__attribute__((target("avx512f"))) void min_keys_avx512(const std::uint32_t* keys, std::size_t m,
                                                        const perm_table& p, std::uint32_t* out) {
  const std::size_t k = p.a.size();  // a multiple of 16
  std::size_t i = 0;
  for (; i + 128 <= k; i += 128) min_keys_block<8>(keys, m, &p.a[i], &p.b[i], out + i);
  switch ((k - i) / 16) {
    case 0: break;
    case 1: min_keys_block<1>(keys, m, &p.a[i], &p.b[i], out + i); break;
    case 2: min_keys_block<2>(keys, m, &p.a[i], &p.b[i], out + i); break;
    case 3: min_keys_block<3>(keys, m, &p.a[i], &p.b[i], out + i); break;
    case 4: min_keys_block<4>(keys, m, &p.a[i], &p.b[i], out + i); break;
    case 5: min_keys_block<5>(keys, m, &p.a[i], &p.b[i], out + i); break;
    case 6: min_keys_block<6>(keys, m, &p.a[i], &p.b[i], out + i); break;
    default: min_keys_block<7>(keys, m, &p.a[i], &p.b[i], out + i); break;
  }
}

bool have_avx512() {
  static const bool ok = __builtin_cpu_supports("avx512f");
  return ok;
}
#endif

void min_keys(const std::uint32_t* keys, std::size_t m, const perm_table& p, std::uint32_t* out) {
#if defined(__x86_64__) || defined(_M_X64)
  if (have_avx512() && simd_enabled) return min_keys_avx512(keys, m, p, out);
#endif
  min_keys_scalar(keys, m, p, out);
}


#if defined(__x86_64__) || defined(_M_X64)
bool have_avx512bw() {
  static const bool ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
  return ok;
}

// The word hashes of detail::shingle_text, found 64 bytes at a time: ASCII separators
// come from a bitmap lookup; a block holding any non-ASCII byte takes the portable path.
__attribute__((target("avx512f,avx512bw"))) void words_avx512(const std::uint8_t* p,
                                                              std::size_t len, bool fold, bool lower,
                                                              std::vector<std::uint64_t>& units) {
  // Boundaries first, hashes after: the hashing loop then has no branches to stall on.
  thread_local std::vector<std::uint64_t> spans;  // start << 32 | length
  spans.clear();
  const detail::ascii_separators ascii(fold);
  alignas(16) std::uint8_t bitmap[16], bit[16];
  for (int k = 0; k < 16; ++k) {
    bitmap[k] = static_cast<std::uint8_t>((k < 8 ? ascii.lo >> (8 * k) : ascii.hi >> (8 * (k - 8))) & 0xFF);
    bit[k] = static_cast<std::uint8_t>(1u << (k & 7));
  }
  const __m512i tbl = _mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(bitmap)));
  const __m512i bits = _mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(bit)));
  const __m512i low4 = _mm512_set1_epi8(0x0F), low3 = _mm512_set1_epi8(0x07);
  const __m512i upper_a = _mm512_set1_epi8('A');
  std::size_t i = 0, word = 0;
  bool in_word = false, any_upper = false;  // folding case is skipped for documents without A-Z
  auto flush = [&](std::size_t end) { spans.push_back((std::uint64_t{word} << 32) | (end - word)); };
  while (i < len) {
    const std::size_t m = len - i < 64 ? len - i : 64;
    const __mmask64 live = m == 64 ? ~__mmask64{0} : ((__mmask64{1} << m) - 1);
    const __m512i v = _mm512_maskz_loadu_epi8(live, p + i);
    any_upper |= _mm512_cmplt_epu8_mask(_mm512_sub_epi8(v, upper_a), _mm512_set1_epi8(26)) != 0;
    if (_mm512_movepi8_mask(v) & live) {
      for (const std::size_t stop = i + m; i < stop;) {
        std::uint32_t l = 1;
        const std::uint32_t c = p[i];
        const bool sep = c < 0x80 ? ascii(c) : detail::is_separator(detail::decode_utf8(p + i, len - i, &l), fold);
        if (sep && in_word) flush(i);
        if (!sep && !in_word) word = i;
        in_word = !sep;
        i += l;
      }
      continue;
    }
    const __m512i row = _mm512_shuffle_epi8(tbl, _mm512_and_si512(_mm512_srli_epi16(v, 3), low4));
    const __m512i col = _mm512_shuffle_epi8(bits, _mm512_and_si512(v, low3));
    const std::uint64_t sep = _mm512_test_epi8_mask(row, col) | ~live;  // past the end: separators
    const std::uint64_t word_bits = ~sep;
    // Word starts follow a separator, word ends are separators that follow a word byte;
    // each list is extracted on its own (no loop-carried dependency) and then paired.
    std::uint64_t starts = word_bits & ((sep << 1) | (in_word ? 0 : 1));
    std::uint64_t ends = sep & ((word_bits << 1) | (in_word ? 1 : 0));
    unsigned s_pos[64], e_pos[64], ns = 0, ne = 0;
    for (; starts; starts &= starts - 1) s_pos[ns++] = static_cast<unsigned>(__builtin_ctzll(starts));
    for (; ends; ends &= ends - 1) e_pos[ne++] = static_cast<unsigned>(__builtin_ctzll(ends));
    unsigned ei = 0;
    if (in_word && ne > 0) {
      flush(i + e_pos[0]);
      ei = 1;
      in_word = false;
    }
    for (unsigned si = 0; si < ns; ++si) {
      word = i + s_pos[si];
      if (ei < ne) {
        flush(i + e_pos[ei++]);
      } else {
        in_word = true;  // runs into the next block
      }
    }
    i += m;
  }
  if (in_word) flush(len);
  units.resize(spans.size());
  const bool fold_case = lower && any_upper;
  for (std::size_t k = 0; k < spans.size(); ++k) {
    const std::size_t start = spans[k] >> 32, n = spans[k] & 0xFFFFFFFFu;
    units[k] = detail::hash_bytes(p + start, n, len - start, fold_case);
  }
}

// All shingle hashes of a unit sequence at once (detail::fold_units for each window),
// one pass per shingle position so that the loops vectorize.
__attribute__((target("avx512f,avx512dq"))) std::size_t fold_all(const std::uint64_t* u,
                                                                 std::size_t m, std::uint32_t n,
                                                                 std::uint64_t* out) {
  if (m == 0) return 0;
  if (m < n) {
    out[0] = detail::fold_units(u, static_cast<std::uint32_t>(m), 0, static_cast<std::uint32_t>(m));
    return 1;
  }
  const std::size_t count = m - n + 1;
  const std::uint64_t h0 = static_cast<std::uint64_t>(n) * detail::kGolden;
  for (std::size_t i = 0; i < count; ++i) out[i] = h0;
  for (std::uint32_t j = 0; j < n; ++j) {
    const std::uint64_t k = detail::kMul + 2 * static_cast<std::uint64_t>(j) * detail::kGolden;
    const std::uint64_t* uj = u + j;
    for (std::size_t i = 0; i < count; ++i) out[i] += uj[i] * k;
  }
  for (std::size_t i = 0; i < count; ++i) out[i] = detail::murmur_mix(out[i]);
  return count;
}
#endif

// Shingle hashes of document d appended to `out` (which it may hold already; the
// vectorized word path writes them in place); returns the shingle count.
std::uint64_t shingles_of(const text_view& docs, const minhash_spec& s, std::size_t d,
                          std::vector<std::uint64_t>& out) {
  const std::int64_t b = docs.offsets[d], e = docs.offsets[d + 1];
  const auto len = static_cast<std::size_t>(e - b);
#if defined(__x86_64__) || defined(_M_X64)
  if (s.unit == shingle_unit::word && simd_enabled && have_avx512bw() && len < (std::size_t{1} << 32)) {
    thread_local std::vector<std::uint64_t> units;
    units.clear();
    words_avx512(docs.bytes + b, len, s.fold_punctuation, s.lowercase_ascii, units);
    const std::size_t at = out.size();
    out.resize(at + units.size() + 1);
    const std::size_t count = fold_all(units.data(), units.size(), s.n, out.data() + at);
    out.resize(at + count);
    return count;
  }
#endif
  auto emit = [&out](std::uint64_t h) { out.push_back(h); };
  return detail::shingle_text(docs.bytes + b, len, s.unit == shingle_unit::word ? 0 : 1, s.n,
                              s.fold_punctuation, s.lowercase_ascii, emit);
}

std::uint64_t shingles_of(const token_view& docs, const minhash_spec& s, std::size_t d,
                          std::vector<std::uint64_t>& out) {
  auto emit = [&out](std::uint64_t h) { out.push_back(h); };
  return visit_dtype(docs.ids, [&](const auto* ids) -> std::uint64_t {
    using T = std::remove_cv_t<std::remove_pointer_t<decltype(ids)>>;
    if constexpr (std::is_floating_point_v<T>) {
      throw invalid_input("token ids must be integers, got a float array");
    } else {
      // Signed ids are sign-extended, so -1 as int32 and as int64 hash alike.
      using Wide = std::conditional_t<std::is_signed_v<T>, std::int64_t, std::uint64_t>;
      detail::unit_window<detail::kMaxShingleUnits> win(s.n);
      for (std::int64_t i = docs.offsets[d]; i < docs.offsets[d + 1]; ++i)
        win.push(detail::token_hash(static_cast<std::uint64_t>(static_cast<Wide>(ids[i]))), emit);
      win.finish(emit);
      return win.emitted;
    }
  });
}

// The sketch of shingle_hash.hpp: slots from one pass, then the empty slots' fallback
// permutations, 16 at a time (padded with a harmless dummy permutation).
void sketch(sketch_scratch& w, const perm_table& perms, std::uint32_t* out) {
  const auto k = static_cast<std::uint32_t>(perms.a.size());
  std::fill(out, out + k, kEmptySlot);
  for (const std::uint64_t h : w.hashes) {
    const std::uint32_t j = detail::slot_of(h, k), r = detail::rank_of(h);
    out[j] = r < out[j] ? r : out[j];
  }
  if (w.hashes.empty()) return;
  w.empty.clear();
  for (std::uint32_t j = 0; j < k; ++j)
    if (out[j] == kEmptySlot) w.empty.push_back(j);
  if (w.empty.empty()) return;
  const std::size_t padded = (w.empty.size() + 15) / 16 * 16;
  w.fallback.a.assign(padded, 1);
  w.fallback.b.assign(padded, 0);
  for (std::size_t e = 0; e < w.empty.size(); ++e) {
    w.fallback.a[e] = perms.a[w.empty[e]];
    w.fallback.b[e] = perms.b[w.empty[e]];
  }
  w.keys.resize(w.hashes.size());
  for (std::size_t i = 0; i < w.hashes.size(); ++i) w.keys[i] = detail::shingle_key(w.hashes[i]);
  w.minima.resize(padded);
  min_keys(w.keys.data(), w.keys.size(), w.fallback, w.minima.data());
  for (std::size_t e = 0; e < w.empty.size(); ++e)
    out[w.empty[e]] = detail::fallback_value(w.minima[e]);
}

template <class Docs>
void signatures(const Docs& docs, const minhash_spec& spec, std::uint32_t* sig,
                std::uint64_t* counts, int threads) {
  check_spec(spec);
  const perm_table perms(spec);
  parallel_ranges(docs.n_docs, kDocGrain, threads, [&](int, std::size_t begin, std::size_t end) {
    sketch_scratch w;
    for (std::size_t d = begin; d < end; ++d) {
      w.hashes.clear();
      counts[d] = shingles_of(docs, spec, d, w.hashes);
      sketch(w, perms, sig + d * spec.num_perm);
    }
  });
}

template <class Docs>
shingle_sets sets(const Docs& docs, const minhash_spec& spec, int threads) {
  check_spec(spec);
  std::vector<std::vector<std::uint64_t>> per_doc(docs.n_docs);
  parallel_ranges(docs.n_docs, kDocGrain, threads, [&](int, std::size_t begin, std::size_t end) {
    for (std::size_t d = begin; d < end; ++d) {
      auto& v = per_doc[d];
      shingles_of(docs, spec, d, v);
      std::sort(v.begin(), v.end());
      v.erase(std::unique(v.begin(), v.end()), v.end());
    }
  });
  shingle_sets out;
  out.offsets.reserve(docs.n_docs + 1);
  out.offsets.push_back(0);
  std::size_t total = 0;
  for (auto& v : per_doc) total += v.size();
  out.hashes.reserve(total);
  for (auto& v : per_doc) {
    out.hashes.insert(out.hashes.end(), v.begin(), v.end());
    out.offsets.push_back(static_cast<std::int64_t>(out.hashes.size()));
  }
  return out;
}

}  // namespace

void set_minhash_simd(bool enabled) { simd_enabled = enabled; }

void check_spec(const minhash_spec& s) {
  if (s.n < 1 || s.n > detail::kMaxShingleUnits)
    throw invalid_input("shingle size n must be between 1 and 32, got " + std::to_string(s.n));
  if (s.num_perm < 16 || s.num_perm > 4096 || s.num_perm % 16 != 0)
    throw invalid_input("num_perm must be a multiple of 16 between 16 and 4096, got " +
                        std::to_string(s.num_perm));
}

void check_offsets(const std::int64_t* offsets, std::size_t n_docs, std::size_t n_data) {
  if (offsets[0] < 0) throw invalid_input("offsets must start at 0 or above");
  for (std::size_t i = 0; i < n_docs; ++i)
    if (offsets[i + 1] < offsets[i])
      throw invalid_input("offsets must not decrease (at document " + std::to_string(i) + ")");
  if (static_cast<std::uint64_t>(offsets[n_docs]) > n_data)
    throw invalid_input("offsets point past the end of the data (" +
                        std::to_string(offsets[n_docs]) + " > " + std::to_string(n_data) + ")");
}

void non_ascii_documents(const text_view& docs, std::uint8_t* out, int threads) {
  check_offsets(docs.offsets, docs.n_docs, docs.n_bytes);
  parallel_ranges(docs.n_docs, kDocGrain, threads, [&](int, std::size_t begin, std::size_t end) {
    for (std::size_t d = begin; d < end; ++d) {
      const std::uint8_t* p = docs.bytes + docs.offsets[d];
      const auto len = static_cast<std::size_t>(docs.offsets[d + 1] - docs.offsets[d]);
      std::uint8_t any = 0;
      for (std::size_t i = 0; i < len; ++i) any |= p[i];  // vectorizes; the high bit is what counts
      out[d] = any >> 7;
    }
  });
}

void perm_params(const minhash_spec& spec, std::uint32_t* a, std::uint32_t* b) {
  for (std::uint32_t i = 0; i < spec.num_perm; ++i) detail::perm_params(spec.seed, i, a + i, b + i);
}

void minhash_text(const text_view& docs, const minhash_spec& spec, std::uint32_t* sig,
                  std::uint64_t* counts, int threads) {
  if (spec.unit == shingle_unit::token) throw invalid_input("text needs word or character shingles");
  check_offsets(docs.offsets, docs.n_docs, docs.n_bytes);
  signatures(docs, spec, sig, counts, threads);
}

void minhash_text_lanes(const text_view& docs, const minhash_spec& spec, std::uint32_t* sig) {
  check_spec(spec);
  if (spec.unit == shingle_unit::token) throw invalid_input("text needs word or character shingles");
  check_offsets(docs.offsets, docs.n_docs, docs.n_bytes);
  const int unit = spec.unit == shingle_unit::word ? 0 : 1;
  std::vector<detail::lane_slots> lanes;
  for (std::size_t d = 0; d < docs.n_docs; ++d) {
    const std::uint8_t* p = docs.bytes + docs.offsets[d];
    const auto len = static_cast<std::size_t>(docs.offsets[d + 1] - docs.offsets[d]);
    std::uint32_t* row = sig + d * spec.num_perm;
    for (std::uint32_t base = 0; base < spec.num_perm; base += detail::kPassPerms) {
      lanes.clear();
      std::uint64_t count = 0;
      bool any_empty = false;  // the kernel's __any_sync
      for (std::uint32_t lane = 0; lane < 32; ++lane) {
        lanes.emplace_back(base + lane, spec.num_perm);
        count = detail::shingle_text(p, len, unit, spec.n, spec.fold_punctuation,
                                     spec.lowercase_ascii, lanes.back());
        any_empty |= lanes.back().any_empty();
      }
      for (auto& lane : lanes) {
        if (count > 0 && any_empty) {
          detail::lane_fallback f(lane, spec.seed);
          detail::shingle_text(p, len, unit, spec.n, spec.fold_punctuation, spec.lowercase_ascii, f);
          detail::store_lane(lane, &f, row);
        } else {
          detail::store_lane(lane, nullptr, row);
        }
      }
    }
  }
}

void minhash_tokens(const token_view& docs, const minhash_spec& spec, std::uint32_t* sig,
                    std::uint64_t* counts, int threads) {
  check_offsets(docs.offsets, docs.n_docs, docs.ids.size);
  if (docs.ids.type == dtype::f32 || docs.ids.type == dtype::f64)
    throw invalid_input("token ids must be integers, got a float array");
  signatures(docs, spec, sig, counts, threads);
}

shingle_sets text_shingle_sets(const text_view& docs, const minhash_spec& spec, int threads) {
  if (spec.unit == shingle_unit::token) throw invalid_input("text needs word or character shingles");
  check_offsets(docs.offsets, docs.n_docs, docs.n_bytes);
  return sets(docs, spec, threads);
}

shingle_sets token_shingle_sets(const token_view& docs, const minhash_spec& spec, int threads) {
  check_offsets(docs.offsets, docs.n_docs, docs.ids.size);
  if (docs.ids.type == dtype::f32 || docs.ids.type == dtype::f64)
    throw invalid_input("token ids must be integers, got a float array");
  return sets(docs, spec, threads);
}

}  // namespace driftcore
