#include "driftcore/threading.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <functional>
#include <new>
#include <system_error>
#include <thread>
#include <vector>

#include "driftcore/cancel.hpp"

namespace driftcore {

int hardware_threads() noexcept {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

int resolve_threads(int threads) noexcept {
  return threads <= 0 ? hardware_threads() : threads;
}

int value_threads(std::size_t n, int threads, int per_thread_log2) noexcept {
  const std::size_t by_size = std::max<std::size_t>(1, n >> per_thread_log2);
  return static_cast<int>(
      std::min<std::size_t>(by_size, static_cast<std::size_t>(resolve_threads(threads))));
}

int range_count(std::size_t n, std::size_t grain, int threads) noexcept {
  if (grain == 0) grain = 1;
  std::size_t blocks = (n + grain - 1) / grain;
  std::size_t t = static_cast<std::size_t>(resolve_threads(threads));
  return static_cast<int>(std::max<std::size_t>(1, std::min(blocks, t)));
}

namespace {

std::atomic<int> start_limit{-1};  // the testing hook's cap; < 0: none
std::atomic<std::uint64_t> refused{0};

// Threads started by one parallel call, all joined when it goes out of scope: a
// joinable std::thread destroyed on an error path would call std::terminate.
class thread_group {
 public:
  explicit thread_group(int most) { threads_.reserve(static_cast<std::size_t>(most)); }
  thread_group(const thread_group&) = delete;
  thread_group& operator=(const thread_group&) = delete;
  ~thread_group() {
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

  // Start `fn` on a new thread; false when the system refuses one (EAGAIN under a
  // process or thread limit, or no memory for its stack).
  template <class Fn>
  bool try_start(Fn& fn) {
    try {
      const int cap = start_limit.load(std::memory_order_relaxed);
      if (cap >= 0 && threads_.size() >= static_cast<std::size_t>(cap))
        throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again));
      threads_.emplace_back(std::ref(fn));
      return true;
    } catch (const std::system_error&) {
    } catch (const std::bad_alloc&) {
    }
    refused.fetch_add(1, std::memory_order_relaxed);
    return false;
  }

 private:
  std::vector<std::thread> threads_;
};

}  // namespace

void set_thread_start_limit(int limit) noexcept {
  start_limit.store(limit, std::memory_order_relaxed);
}

std::uint64_t refused_thread_starts() noexcept {
  return refused.load(std::memory_order_relaxed);
}

void parallel_ranges(std::size_t n, std::size_t grain, int threads,
                     const std::function<void(int, std::size_t, std::size_t)>& body) {
  if (grain == 0) grain = 1;
  const int workers = range_count(n, grain, threads);
  if (workers == 1) {
    throw_if_cancelled();
    body(0, 0, n);
    return;
  }
  // Whole blocks per worker, so range boundaries fall on block boundaries; range w is
  // fixed by (n, grain, workers) alone, whichever thread runs it.
  const std::size_t blocks = (n + grain - 1) / grain;
  const std::size_t per = blocks / workers, extra = blocks % workers;
  std::vector<std::exception_ptr> errors(workers);
  std::atomic<int> next{0};
  // Started threads check the caller's cancellation flag too.
  const std::atomic<bool>* flag = current_cancel_flag();
  // Every thread, the caller included, takes the next range not yet taken, so ranges of
  // a thread that could not be started are run by the others.
  auto drain = [&] {
    cancel_scope scope(flag);
    for (int w; (w = next.fetch_add(1, std::memory_order_relaxed)) < workers;) {
      const std::size_t uw = static_cast<std::size_t>(w);
      const std::size_t first = uw * per + std::min(uw, extra);
      const std::size_t b = std::min(n, first * grain);
      const std::size_t e = std::min(n, (first + per + (uw < extra ? 1 : 0)) * grain);
      try {
        throw_if_cancelled();
        body(w, b, e);
      } catch (...) {
        errors[uw] = std::current_exception();
      }
    }
  };
  {
    thread_group group(workers - 1);
    for (int t = 1; t < workers; ++t)
      if (!group.try_start(drain)) break;  // more would be refused too
    drain();
  }  // joined here
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
                      for (std::size_t k;
                           !failed.load(std::memory_order_relaxed) &&
                           (k = next.fetch_add(1, std::memory_order_relaxed)) < blocks;) {
                        throw_if_cancelled();
                        body(w, k * grain, std::min(n, (k + 1) * grain));
                      }
                    } catch (...) {
                      failed = true;  // the others stop taking blocks
                      throw;
                    }
                  });
}

}  // namespace driftcore
