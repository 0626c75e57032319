// The device algorithm of value_grid::update_summarized_device run on the host: the
// kernels' per-value code, their blocks and the same level search (value_grid.cu),
// with plain adds where the kernels add atomically. Tests compare it with
// update_summarized(), so the algorithm is checked on every build.
#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "driftcore/value_grid.hpp"
#include "value_grid_device.hpp"

namespace driftcore {
namespace {

struct plain_add {
  template <class U>
  U operator()(U* p, U v) const noexcept {
    const U old = *p;
    *p = static_cast<U>(old + v);
    return old;
  }
};

// The multiprocessors of the card the replay plans its scan blocks for (an H100 SXM
// or H200).
constexpr int kReplaySms = 132;

template <class T>
class replay_backend {
 public:
  replay_backend(const T* x, std::size_t n, int low) : x_(x), n_(n), low_(low) {}

  void scan(detail::scan_words& w) const {
    using detail::kBinades;
    std::memset(&w, 0, sizeof w);
    w.min_key = ~std::uint64_t(0);
    std::vector<std::uint32_t> count(kBinades);
    std::vector<std::uint64_t> sums(4 * kBinades);
    const detail::scan_block b{count.data(), sums.data(), sums.data() + kBinades,
                               sums.data() + 2 * kBinades, sums.data() + 3 * kBinades};
    const std::size_t per = detail::scan_chunk_values(n_, kReplaySms);
    for (std::size_t begin = 0; begin < n_; begin += per) {
      std::fill(count.begin(), count.end(), 0u);
      std::fill(sums.begin(), sums.end(), 0u);
      detail::scan_tally t;
      const std::size_t end = std::min(n_, begin + per);
      for (std::size_t i = begin; i < end; ++i)
        detail::scan_value(static_cast<double>(x_[i]), low_, b, t, plain_add{});
      for (unsigned binade = 0; binade < kBinades; ++binade)
        detail::flush_binade(binade, b, &w, plain_add{});
      w.nan += t.nan;
      w.pos_inf += t.pos_inf;
      w.neg_inf += t.neg_inf;
      w.min_key = std::min(w.min_key, t.min_key);
      w.max_key = std::max(w.max_key, t.max_key);
    }
  }

  void dense(const std::vector<std::uint64_t>& parents, int p, int s,
             const std::vector<std::uint64_t>& marks, std::vector<std::uint64_t>& occupied) {
    s_ = s;
    const std::size_t size = parents.size() << (p - s);
    counts_.assign(static_cast<std::size_t>(p - s), {});
    marks_.assign(static_cast<std::size_t>(p - s), {});
    counts_[0].assign(size, 0);
    marks_[0].assign(size, 0);
    const auto np = static_cast<std::uint32_t>(parents.size());
    for (std::size_t i = 0; i < n_; ++i) {
      const double v = static_cast<double>(x_[i]);
      if (detail::is_finite(v))
        ++counts_[0][detail::dense_slot(detail::grid_key(v), parents.data(), np, p, s)];
    }
    for (std::uint64_t m : marks) marks_[0][m] = 1;
    occupied.assign(static_cast<std::size_t>(p - s), 0);
    for (std::size_t i = 0; i < size; ++i) occupied[0] += counts_[0][i] || marks_[0][i];
    for (std::size_t k = 1; k < counts_.size(); ++k) {
      const std::size_t half = size >> k;
      counts_[k].assign(half, 0);
      marks_[k].assign(half, 0);
      for (std::size_t i = 0; i < half; ++i)
        occupied[k] += detail::halve_cell(counts_[k - 1].data(), marks_[k - 1].data(),
                                          counts_[k].data(), marks_[k].data(), i);
    }
  }

  void cells(int t, std::vector<std::uint64_t>& slots, std::vector<std::uint64_t>& counts) const {
    const auto& c = counts_[static_cast<std::size_t>(t - s_)];
    slots.clear();
    counts.clear();
    for (std::size_t i = 0; i < c.size(); ++i) {
      if (c[i]) {
        slots.push_back(i);
        counts.push_back(c[i]);
      }
    }
  }

 private:
  const T* x_;
  std::size_t n_;
  int low_;
  int s_ = 0;
  std::vector<std::vector<std::uint64_t>> counts_;
  std::vector<std::vector<std::uint8_t>> marks_;
};

}  // namespace

value_summary value_grid::update_summarized_replay(const array_view& values) {
  return visit_dtype(values, [&](const auto* x) {
    using T = std::remove_cv_t<std::remove_pointer_t<decltype(x)>>;
    const int low = std::is_same_v<T, float> ? 29 : 0;
    replay_backend<T> backend(x, values.size, low);
    return value_grid_levels::run(*this, backend, low);
  });
}

}  // namespace driftcore
