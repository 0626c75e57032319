// MinHash signatures: tokenize and fold shingles per document (shingle_hash.hpp), then
// take the per-permutation minimum over the document's 32-bit shingle keys.
#include "driftcore/minhash.hpp"

#include <immintrin.h>

#include <algorithm>
#include <string>
#include <type_traits>
#include <vector>

#include "avx512.hpp"
#include "driftcore/cancel.hpp"
#include "driftcore/threading.hpp"
#include "shingle_hash.hpp"
#include "sort_unique.hpp"
#include "word_units_avx512.hpp"

// GCC 12's AVX-512 headers trip these inside their own intrinsics.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace driftcore {
namespace {

using detail::kEmptySlot;

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
  std::vector<std::uint32_t> empty, minima, slot, rank;
  perm_table fallback;
};

// out[i] = min over the shingle keys of a_i * key + b_i, for every permutation of p.
void min_keys_scalar(const std::uint64_t* hashes, std::size_t m, const perm_table& p,
                     std::uint32_t* out) {
  const std::size_t k = p.a.size();
  for (std::size_t i = 0; i < k; ++i) {
    std::uint32_t lo = kEmptySlot;
    const std::uint32_t a = p.a[i], b = p.b[i];
    for (std::size_t j = 0; j < m; ++j) lo = std::min(lo, a * detail::shingle_key(hashes[j]) + b);
    out[i] = lo;
  }
}

#if defined(__x86_64__) || defined(_M_X64)
// V vectors of 16 permutations each stay in registers while every key streams by.
template <int V>
__attribute__((target("avx512f"))) void min_keys_block(const std::uint64_t* hashes, std::size_t m,
                                                       const std::uint32_t* a,
                                                       const std::uint32_t* b, std::uint32_t* out) {
  __m512i lo[V], av[V], bv[V];
  for (int v = 0; v < V; ++v) {
    lo[v] = _mm512_set1_epi32(-1);
    av[v] = _mm512_loadu_si512(a + 16 * v);
    bv[v] = _mm512_loadu_si512(b + 16 * v);
  }
  for (std::size_t j = 0; j < m; ++j) {
    const __m512i x = _mm512_set1_epi32(static_cast<int>(detail::shingle_key(hashes[j])));
    for (int v = 0; v < V; ++v)
      lo[v] = _mm512_min_epu32(lo[v], _mm512_add_epi32(_mm512_mullo_epi32(av[v], x), bv[v]));
  }
  for (int v = 0; v < V; ++v) _mm512_storeu_si512(out + 16 * v, lo[v]);
}

__attribute__((target("avx512f"))) void min_keys_avx512(const std::uint64_t* hashes, std::size_t m,
                                                        const perm_table& p, std::uint32_t* out) {
  const std::size_t k = p.a.size();  // a multiple of 16
  std::size_t i = 0;
  for (; i + 128 <= k; i += 128) min_keys_block<8>(hashes, m, &p.a[i], &p.b[i], out + i);
  switch ((k - i) / 16) {
    case 0:
      break;
    case 1:
      min_keys_block<1>(hashes, m, &p.a[i], &p.b[i], out + i);
      break;
    case 2:
      min_keys_block<2>(hashes, m, &p.a[i], &p.b[i], out + i);
      break;
    case 3:
      min_keys_block<3>(hashes, m, &p.a[i], &p.b[i], out + i);
      break;
    case 4:
      min_keys_block<4>(hashes, m, &p.a[i], &p.b[i], out + i);
      break;
    case 5:
      min_keys_block<5>(hashes, m, &p.a[i], &p.b[i], out + i);
      break;
    case 6:
      min_keys_block<6>(hashes, m, &p.a[i], &p.b[i], out + i);
      break;
    default:
      min_keys_block<7>(hashes, m, &p.a[i], &p.b[i], out + i);
      break;
  }
}

// empty_slots, 16 slots per step (positions and permutations compressed out).
__attribute__((target("avx512f"))) std::size_t empty_slots_avx512(const std::uint32_t* sig,
                                                                  std::uint32_t k,
                                                                  const perm_table& p,
                                                                  sketch_scratch& w) {
  const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i empty = _mm512_set1_epi32(-1);
  std::size_t n = 0;
  for (std::uint32_t j = 0; j < k; j += 16) {
    const __mmask16 e = _mm512_cmpeq_epi32_mask(_mm512_loadu_si512(sig + j), empty);
    _mm512_storeu_si512(&w.empty[n],
                        _mm512_maskz_compress_epi32(
                            e, _mm512_add_epi32(iota, _mm512_set1_epi32(static_cast<int>(j)))));
    _mm512_storeu_si512(&w.fallback.a[n],
                        _mm512_maskz_compress_epi32(e, _mm512_loadu_si512(&p.a[j])));
    _mm512_storeu_si512(&w.fallback.b[n],
                        _mm512_maskz_compress_epi32(e, _mm512_loadu_si512(&p.b[j])));
    n += static_cast<std::size_t>(__builtin_popcount(e));
  }
  return n;
}

// slot_of and rank_of of every shingle hash, 8 at a time; the min-store that follows
// is then a short scalar loop.
__attribute__((target("avx512f"))) void slots_ranks_avx512(const std::uint64_t* h, std::size_t m,
                                                           std::uint32_t k, std::uint32_t* slot,
                                                           std::uint32_t* rank) {
  const __m512i kk = _mm512_set1_epi64(k);
  std::size_t i = 0;
  for (; i + 8 <= m; i += 8) {
    const __m512i v = _mm512_loadu_si512(h + i);
    const __m512i j = _mm512_srli_epi64(_mm512_mul_epu32(_mm512_srli_epi64(v, 32), kk), 32);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(slot + i), _mm512_cvtepi64_epi32(j));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(rank + i),
                        _mm512_cvtepi64_epi32(_mm512_srli_epi64(_mm512_slli_epi64(v, 32), 33)));
  }
  for (; i < m; ++i) {
    slot[i] = detail::slot_of(h[i], k);
    rank[i] = detail::rank_of(h[i]);
  }
}
#endif

// The empty slots of sig[0..k) into w.empty and their permutations into w.fallback
// (each sized k + 16); returns their number.
std::size_t empty_slots(const std::uint32_t* sig, std::uint32_t k, const perm_table& p,
                        sketch_scratch& w) {
#if defined(__x86_64__) || defined(_M_X64)
  if (detail::use_avx512()) return empty_slots_avx512(sig, k, p, w);
#endif
  std::size_t n = 0;
  for (std::uint32_t j = 0; j < k; ++j) {
    if (sig[j] != kEmptySlot) continue;
    w.empty[n] = j;
    w.fallback.a[n] = p.a[j];
    w.fallback.b[n++] = p.b[j];
  }
  return n;
}

void min_keys(const std::uint64_t* hashes, std::size_t m, const perm_table& p, std::uint32_t* out) {
#if defined(__x86_64__) || defined(_M_X64)
  if (detail::use_avx512()) return min_keys_avx512(hashes, m, p, out);
#endif
  min_keys_scalar(hashes, m, p, out);
}

// Appends shingle hashes, checking the cancellation flag every 2^16 of them: one
// document can be gigabytes long.
struct polling_emit {
  std::vector<std::uint64_t>& out;
  void operator()(std::uint64_t h) {
    out.push_back(h);
    if ((out.size() & 0xFFFF) == 0) throw_if_cancelled();
  }
};

// Shingle hashes of document d appended to `out` (which it may hold already; the
// vectorized word path writes them in place); returns the shingle count.
std::uint64_t shingles_of(const text_view& docs, const minhash_spec& s, std::size_t d,
                          std::vector<std::uint64_t>& out) {
  const std::int64_t b = docs.offsets[d], e = docs.offsets[d + 1];
  const auto len = static_cast<std::size_t>(e - b);
  if (s.unit == shingle_unit::word && detail::use_avx512() && len < (std::size_t{1} << 32)) {
    thread_local std::vector<std::uint64_t> units;
    detail::word_units_avx512(docs.bytes + b, len, docs.n_bytes - static_cast<std::size_t>(b),
                              s.fold_punctuation, s.lowercase_ascii, units);
    const std::size_t at = out.size();
    out.resize(at + units.size() + 1);
    out.resize(at + detail::fold_units_avx512(units.data(), units.size(), s.n, out.data() + at));
    if (units.capacity() > (std::size_t{1} << 21))
      std::vector<std::uint64_t>().swap(units);  // 16 MB
    return out.size() - at;
  }
  polling_emit emit{out};
  return detail::shingle_text(docs.bytes + b, len, s.unit == shingle_unit::word ? 0 : 1, s.n,
                              s.fold_punctuation, s.lowercase_ascii, emit);
}

std::uint64_t shingles_of(const token_view& docs, const minhash_spec& s, std::size_t d,
                          std::vector<std::uint64_t>& out) {
  polling_emit emit{out};
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
#if defined(__x86_64__) || defined(_M_X64)
  if (detail::use_avx512()) {
    const std::size_t m = w.hashes.size();
    w.slot.resize(m);
    w.rank.resize(m);
    slots_ranks_avx512(w.hashes.data(), m, k, w.slot.data(), w.rank.data());
    for (std::size_t i = 0; i < m; ++i) {
      const std::uint32_t j = w.slot[i], r = w.rank[i];
      out[j] = r < out[j] ? r : out[j];
    }
  } else
#endif
    for (const std::uint64_t h : w.hashes) {
      const std::uint32_t j = detail::slot_of(h, k), r = detail::rank_of(h);
      out[j] = r < out[j] ? r : out[j];
    }
  if (w.hashes.empty()) return;
  w.empty.resize(k + 16);
  w.fallback.a.resize(k + 16);
  w.fallback.b.resize(k + 16);
  const std::size_t count = empty_slots(out, k, perms, w);
  if (count == 0) return;
  // Pad to whole vectors with a harmless dummy permutation; min_keys reads a.size() of them.
  const std::size_t padded = (count + 15) / 16 * 16;
  std::fill(w.fallback.a.begin() + count, w.fallback.a.begin() + padded, 1u);
  std::fill(w.fallback.b.begin() + count, w.fallback.b.begin() + padded, 0u);
  w.fallback.a.resize(padded);
  w.fallback.b.resize(padded);
  w.minima.resize(padded);
  min_keys(w.hashes.data(), w.hashes.size(), w.fallback, w.minima.data());
  for (std::size_t e = 0; e < count; ++e) out[w.empty[e]] = detail::fallback_value(w.minima[e]);
}

template <class Docs>
void signatures(const Docs& docs, const minhash_spec& spec, std::uint32_t* sig,
                std::uint64_t* counts, int threads) {
  check_spec(spec);
  const perm_table perms(spec);
  parallel_ranges(docs.n_docs, kDocGrain, threads, [&](int, std::size_t begin, std::size_t end) {
    sketch_scratch w;
    for (std::size_t d = begin; d < end; ++d) {
      if (((d - begin) & 63) == 0) throw_if_cancelled();
      w.hashes.clear();
      counts[d] = shingles_of(docs, spec, d, w.hashes);
      throw_if_cancelled();  // a long document's shingles may have taken a while
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
      if (((d - begin) & 63) == 0) throw_if_cancelled();
      auto& v = per_doc[d];
      shingles_of(docs, spec, d, v);
      detail::sort_unique(v);
    }
  });
  shingle_sets out;
  out.offsets.reserve(docs.n_docs + 1);
  out.offsets.push_back(0);
  std::size_t total = 0;
  for (auto& v : per_doc) total += v.size();
  out.hashes.reserve(total);
  for (auto& v : per_doc) {
    if ((out.offsets.size() & 4095) == 0) throw_if_cancelled();
    out.hashes.insert(out.hashes.end(), v.begin(), v.end());
    out.offsets.push_back(static_cast<std::int64_t>(out.hashes.size()));
  }
  return out;
}

// True when p[0..len) holds a byte >= 0x80 (text that needs Unicode normalization).
bool any_high_byte(const std::uint8_t* p, std::size_t len) {
  if (detail::use_avx512()) return detail::any_high_byte_avx512(p, len);
  std::uint8_t any = 0;
  for (std::size_t i = 0; i < len; ++i) any |= p[i];  // vectorizes; the high bit is what counts
  return any >> 7;
}

}  // namespace

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
      out[d] = any_high_byte(p, len);
    }
  });
}

void perm_params(const minhash_spec& spec, std::uint32_t* a, std::uint32_t* b) {
  for (std::uint32_t i = 0; i < spec.num_perm; ++i) detail::perm_params(spec.seed, i, a + i, b + i);
}

void minhash_text(const text_view& docs, const minhash_spec& spec, std::uint32_t* sig,
                  std::uint64_t* counts, int threads) {
  if (spec.unit == shingle_unit::token)
    throw invalid_input("text needs word or character shingles");
  check_offsets(docs.offsets, docs.n_docs, docs.n_bytes);
  signatures(docs, spec, sig, counts, threads);
}

void minhash_text_lanes(const text_view& docs, const minhash_spec& spec, std::uint32_t* sig) {
  check_spec(spec);
  if (spec.unit == shingle_unit::token)
    throw invalid_input("text needs word or character shingles");
  check_offsets(docs.offsets, docs.n_docs, docs.n_bytes);
  const int unit = spec.unit == shingle_unit::word ? 0 : 1;
  std::vector<detail::lane_slots> lanes;
  std::vector<std::uint32_t> a(spec.num_perm), b(spec.num_perm);
  perm_params(spec, a.data(), b.data());
  std::vector<std::uint16_t> empty(spec.num_perm);
  for (std::size_t d = 0; d < docs.n_docs; ++d) {
    const std::uint8_t* p = docs.bytes + docs.offsets[d];
    const auto len = static_cast<std::size_t>(docs.offsets[d + 1] - docs.offsets[d]);
    std::uint32_t* row = sig + d * spec.num_perm;
    if (detail::sketched_by_row(len, spec.num_perm)) {
      const auto walk = [&](auto& emit) {
        return detail::shingle_text(p, len, unit, spec.n, spec.fold_punctuation,
                                    spec.lowercase_ascii, emit);
      };
      detail::sketch_row(walk, row, spec.num_perm, a.data(), b.data(), empty.data());
      continue;
    }
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
          detail::shingle_text(p, len, unit, spec.n, spec.fold_punctuation, spec.lowercase_ascii,
                               f);
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
  if (spec.unit == shingle_unit::token)
    throw invalid_input("text needs word or character shingles");
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
