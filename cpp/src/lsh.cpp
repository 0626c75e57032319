// Banded LSH: one hash table per band over the build side, probed by the other side.
// Bands run in parallel; pairs are sorted and made distinct at the end (a radix sort
// that can be cancelled), so the output does not depend on the thread count.
#include "driftcore/lsh.hpp"

#include <algorithm>
#include <string>

#include "driftcore/cancel.hpp"
#include "driftcore/common.hpp"
#include "driftcore/threading.hpp"
#include "shingle_hash.hpp"
#include "sort_unique.hpp"

namespace driftcore {
namespace {

constexpr std::uint32_t kNone = 0xFFFFFFFFu;
// Documents (or pairs) between cancellation checks: a check is one thread-local load,
// and 4096 documents of a band take tens of microseconds.
constexpr std::size_t kCheckEvery = 4096;

inline void check_cancel_at(std::size_t i) {
  if (i % kCheckEvery == 0) throw_if_cancelled();
}

// Open-addressing table from key to the newest document with that key; `next` chains
// older documents with the same key.
struct band_table {
  std::vector<std::uint64_t> keys;
  std::vector<std::uint32_t> heads, next;
  std::size_t mask = 0;

  void build(const std::uint64_t* k, const std::uint8_t* valid, std::size_t n, std::uint32_t bands,
             std::uint32_t band) {
    std::size_t cap = 16;
    while (cap < 2 * n) cap <<= 1;
    mask = cap - 1;
    keys.assign(cap, 0);
    heads.assign(cap, kNone);
    next.assign(n, kNone);
    for (std::size_t i = 0; i < n; ++i) {
      check_cancel_at(i);
      if (!valid[i]) continue;
      const std::uint64_t key = k[i * bands + band];
      std::size_t s = slot(key);
      next[i] = heads[s];
      keys[s] = key;
      heads[s] = static_cast<std::uint32_t>(i);
    }
  }
  // The slot holding `key`, or the empty slot where it would go.
  std::size_t slot(std::uint64_t key) const {
    std::size_t s = static_cast<std::size_t>(key) & mask;
    while (heads[s] != kNone && keys[s] != key) s = (s + 1) & mask;
    return s;
  }
  std::uint32_t first(std::uint64_t key) const { return heads[slot(key)]; }
};

void check_count(std::size_t n, const char* what) {
  if (n >= kNone)
    throw invalid_input(std::string(what) + " has " + std::to_string(n) +
                        " documents; an LSH join handles at most 2^32 - 1");
}

// After each probe document of a band: refuses more than max_pairs pairs, and checks
// the cancellation flag every 2^16 new pairs (a document in a large bucket adds
// thousands, so a check per 4096 documents alone can be seconds apart).
struct pair_guard {
  std::size_t max_pairs, next_check = std::size_t{1} << 16;
  void operator()(std::size_t count) {
    if (count > max_pairs)
      throw invalid_input("one LSH band produced more than " + std::to_string(max_pairs) +
                          " candidate pairs: the data holds large groups of identical or "
                          "near-identical documents; deduplicate them first (find_duplicates) "
                          "or raise max_candidates");
    if (count >= next_check) {
      throw_if_cancelled();
      next_check = count + (std::size_t{1} << 16);
    }
  }
};

void finish_pairs(std::vector<std::vector<std::uint64_t>>& per_band,
                  std::vector<std::uint64_t>& out) {
  std::size_t total = 0;
  for (auto& v : per_band) total += v.size();
  throw_if_cancelled();
  out.reserve(total);
  for (auto& v : per_band) {
    throw_if_cancelled();
    out.insert(out.end(), v.begin(), v.end());
    std::vector<std::uint64_t>().swap(v);
  }
  detail::sort_unique(out);  // checks the flag as it goes, unlike std::sort
}

}  // namespace

void band_keys(const std::uint32_t* sig, std::size_t n_docs, std::uint32_t num_perm,
               std::uint32_t bands, std::uint32_t rows, std::uint64_t* keys, int threads) {
  if (bands == 0 || rows == 0 || static_cast<std::uint64_t>(bands) * rows > num_perm)
    throw invalid_input("bands x rows must be between 1 and num_perm (" + std::to_string(bands) +
                        " x " + std::to_string(rows) + " > " + std::to_string(num_perm) + ")");
  parallel_ranges(n_docs, 4096, threads, [&](int, std::size_t begin, std::size_t end) {
    for (std::size_t d = begin; d < end; ++d) {
      check_cancel_at(d - begin);
      for (std::uint32_t b = 0; b < bands; ++b)
        keys[d * bands + b] = detail::band_key(sig + d * num_perm, b, rows);
    }
  });
}

std::vector<std::uint64_t> lsh_cross_pairs(const std::uint64_t* build,
                                           const std::uint8_t* build_valid, std::size_t n_build,
                                           const std::uint64_t* probe,
                                           const std::uint8_t* probe_valid, std::size_t n_probe,
                                           std::uint32_t bands, std::size_t max_pairs,
                                           int threads) {
  check_count(n_build, "the index");
  check_count(n_probe, "the query");
  std::vector<std::vector<std::uint64_t>> per_band(bands);
  parallel_ranges(bands, 1, threads, [&](int, std::size_t b0, std::size_t b1) {
    band_table t;
    for (std::size_t b = b0; b < b1; ++b) {
      t.build(build, build_valid, n_build, bands, static_cast<std::uint32_t>(b));
      auto& out = per_band[b];
      pair_guard guard{max_pairs};
      for (std::size_t i = 0; i < n_probe; ++i) {
        check_cancel_at(i);
        if (!probe_valid[i]) continue;
        for (std::uint32_t j = t.first(probe[i * bands + b]); j != kNone; j = t.next[j])
          out.push_back((static_cast<std::uint64_t>(i) << 32) | j);
        guard(out.size());
      }
    }
  });
  std::vector<std::uint64_t> pairs;
  finish_pairs(per_band, pairs);
  return pairs;
}

std::vector<std::uint64_t> lsh_self_pairs(const std::uint64_t* keys, const std::uint8_t* valid,
                                          std::size_t n, std::uint32_t bands, std::size_t max_pairs,
                                          int threads) {
  check_count(n, "the collection");
  std::vector<std::vector<std::uint64_t>> per_band(bands);
  parallel_ranges(bands, 1, threads, [&](int, std::size_t b0, std::size_t b1) {
    band_table t;
    for (std::size_t b = b0; b < b1; ++b) {
      t.build(keys, valid, n, bands, static_cast<std::uint32_t>(b));
      auto& out = per_band[b];
      pair_guard guard{max_pairs};
      // Each chain lists a bucket newest first; pair every member with the older ones.
      for (std::size_t i = 0; i < n; ++i) {
        check_cancel_at(i);
        if (!valid[i]) continue;
        for (std::uint32_t j = t.next[i]; j != kNone; j = t.next[j])
          out.push_back((static_cast<std::uint64_t>(j) << 32) | i);
        guard(out.size());
      }
    }
  });
  std::vector<std::uint64_t> pairs;
  finish_pairs(per_band, pairs);
  return pairs;
}

void signature_agreement(const std::uint32_t* a, std::size_t n_a, const std::uint32_t* b,
                         std::size_t n_b, std::uint32_t num_perm, const std::int64_t* left,
                         const std::int64_t* right, std::size_t n_pairs, std::uint32_t* agree,
                         int threads) {
  for (std::size_t p = 0; p < n_pairs; ++p)
    if (left[p] < 0 || static_cast<std::size_t>(left[p]) >= n_a || right[p] < 0 ||
        static_cast<std::size_t>(right[p]) >= n_b)
      throw invalid_input("pair " + std::to_string(p) + " indexes past the signatures");
  parallel_ranges(n_pairs, 4096, threads, [&](int, std::size_t begin, std::size_t end) {
    for (std::size_t p = begin; p < end; ++p) {
      check_cancel_at(p - begin);
      const std::uint32_t* x = a + static_cast<std::size_t>(left[p]) * num_perm;
      const std::uint32_t* y = b + static_cast<std::size_t>(right[p]) * num_perm;
      std::uint32_t same = 0;
      for (std::uint32_t i = 0; i < num_perm; ++i) same += x[i] == y[i];
      agree[p] = same;
    }
  });
}

void set_intersections(const std::uint64_t* a, const std::int64_t* a_offsets, std::size_t n_a,
                       const std::uint64_t* b, const std::int64_t* b_offsets, std::size_t n_b,
                       const std::int64_t* left, const std::int64_t* right, std::size_t n_pairs,
                       std::uint64_t* out, int threads) {
  for (std::size_t p = 0; p < n_pairs; ++p)
    if (left[p] < 0 || static_cast<std::size_t>(left[p]) >= n_a || right[p] < 0 ||
        static_cast<std::size_t>(right[p]) >= n_b)
      throw invalid_input("pair " + std::to_string(p) + " indexes past the shingle sets");
  parallel_ranges(n_pairs, 1024, threads, [&](int, std::size_t begin, std::size_t end) {
    for (std::size_t p = begin; p < end; ++p) {
      check_cancel_at(p - begin);
      const std::uint64_t *x = a + a_offsets[left[p]], *xe = a + a_offsets[left[p] + 1];
      const std::uint64_t *y = b + b_offsets[right[p]], *ye = b + b_offsets[right[p] + 1];
      std::uint64_t both = 0;
      while (x < xe && y < ye) {
        if (*x < *y) {
          ++x;
        } else if (*y < *x) {
          ++y;
        } else {
          ++both, ++x, ++y;
        }
      }
      out[p] = both;
    }
  });
}

}  // namespace driftcore
