#include "sort_unique.hpp"

#include <algorithm>
#include <cstddef>
#include <utility>

#include "driftcore/cancel.hpp"

namespace driftcore::detail {
namespace {
// Keys between cancellation checks: a fraction of a millisecond of work.
constexpr std::size_t kCheckBlock = std::size_t{1} << 16;
}  // namespace

void sort_unique(std::vector<std::uint64_t>& v) {
  const std::size_t n = v.size();
  if (n <= kCheckBlock) {  // one block of work: std::sort is faster here
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return;
  }
  // LSD radix sort, 8 bits a pass; passes where every key shares the byte are skipped
  // (pair keys leave the top bytes zero). Linear, so it also beats std::sort here.
  std::vector<std::size_t> count(8 * 256, 0);
  for (std::size_t b = 0; b < n; b += kCheckBlock) {
    throw_if_cancelled();
    for (std::size_t i = b, e = std::min(n, b + kCheckBlock); i < e; ++i)
      for (int p = 0; p < 8; ++p) ++count[p * 256 + ((v[i] >> (8 * p)) & 255)];
  }
  std::vector<std::uint64_t> tmp(n);
  std::uint64_t* src = v.data();
  std::uint64_t* dst = tmp.data();
  for (int p = 0; p < 8; ++p) {
    std::size_t* c = count.data() + p * 256;
    if (c[(src[0] >> (8 * p)) & 255] == n) continue;
    std::size_t run = 0;
    for (int d = 0; d < 256; ++d) run += std::exchange(c[d], run);
    for (std::size_t b = 0; b < n; b += kCheckBlock) {
      throw_if_cancelled();
      for (std::size_t i = b, e = std::min(n, b + kCheckBlock); i < e; ++i)
        dst[c[(src[i] >> (8 * p)) & 255]++] = src[i];
    }
    std::swap(src, dst);
  }
  // Distinct values to the front of v (from src, which may be tmp).
  std::size_t out = 0;
  for (std::size_t b = 0; b < n; b += kCheckBlock) {
    throw_if_cancelled();
    for (std::size_t i = b, e = std::min(n, b + kCheckBlock); i < e; ++i)
      if (out == 0 || src[i] != v[out - 1]) v[out++] = src[i];
  }
  v.resize(out);
}

}  // namespace driftcore::detail
