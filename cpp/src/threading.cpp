#include "driftcore/threading.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <thread>
#include <vector>

namespace driftcore {

int hardware_threads() noexcept {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

int resolve_threads(int threads) noexcept { return threads <= 0 ? hardware_threads() : threads; }

int value_threads(std::size_t n, int threads) noexcept {
  const std::size_t by_size = std::max<std::size_t>(1, n >> 20);
  return static_cast<int>(std::min<std::size_t>(by_size, static_cast<std::size_t>(resolve_threads(threads))));
}

int range_count(std::size_t n, std::size_t grain, int threads) noexcept {
  if (grain == 0) grain = 1;
  std::size_t blocks = (n + grain - 1) / grain;
  std::size_t t = static_cast<std::size_t>(resolve_threads(threads));
  return static_cast<int>(std::max<std::size_t>(1, std::min(blocks, t)));
}

void parallel_ranges(std::size_t n, std::size_t grain, int threads,
                     const std::function<void(int, std::size_t, std::size_t)>& body) {
  if (grain == 0) grain = 1;
  const int workers = range_count(n, grain, threads);
  if (workers == 1) {
    body(0, 0, n);
    return;
  }
  // Whole blocks per worker, so range boundaries fall on block boundaries.
  const std::size_t blocks = (n + grain - 1) / grain;
  const std::size_t per = blocks / workers, extra = blocks % workers;
  std::vector<std::thread> pool;
  std::vector<std::exception_ptr> errors(workers);
  std::size_t begin_block = 0;
  for (int w = 0; w < workers; ++w) {
    std::size_t nb = per + (static_cast<std::size_t>(w) < extra ? 1 : 0);
    std::size_t b = std::min(n, begin_block * grain), e = std::min(n, (begin_block + nb) * grain);
    begin_block += nb;
    pool.emplace_back([&, w, b, e] {
      try {
        body(w, b, e);
      } catch (...) {
        errors[w] = std::current_exception();
      }
    });
  }
  for (auto& t : pool) t.join();
  for (auto& err : errors)
    if (err) std::rethrow_exception(err);
}

void parallel_blocks(std::size_t n, std::size_t grain, int threads,
                     const std::function<void(int, std::size_t, std::size_t)>& body) {
  if (grain == 0) grain = 1;
  const std::size_t blocks = (n + grain - 1) / grain;
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  parallel_ranges(static_cast<std::size_t>(range_count(n, grain, threads)), 1, threads,
                  [&](int w, std::size_t, std::size_t) {
                    try {
                      for (std::size_t k; !failed.load(std::memory_order_relaxed) &&
                                          (k = next.fetch_add(1, std::memory_order_relaxed)) < blocks;)
                        body(w, k * grain, std::min(n, (k + 1) * grain));
                    } catch (...) {
                      failed = true;  // the others stop taking blocks
                      throw;
                    }
                  });
}

}  // namespace driftcore
