#pragma once
// Ctrl-C during a long kernel. Python runs signal handlers only on the main thread and
// only when it gets the GIL back, so a kernel holding the calling thread for 20 s
// would answer SIGINT 20 s late. Instead the kernel runs on a helper thread with the
// GIL released, while the calling thread wakes every 50 ms, takes the GIL for
// PyErr_CheckSignals(), and on a pending exception (KeyboardInterrupt) sets the
// kernel's cancellation flag, waits for it to stop, and raises that exception.
#include <pybind11/pybind11.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <type_traits>

#include "driftcore/cancel.hpp"

namespace driftcore::bind {
namespace py = pybind11;

/// Run `fn()` (pure C++: no Python objects, no GIL) so that SIGINT interrupts it.
/// Must be called with the GIL held. `long_call` false (a small input) runs it inline
/// with the GIL released: a thread start costs more than such a call. Returns fn's
/// result; rethrows its exception; raises the signal handler's exception
/// (KeyboardInterrupt) when one interrupted it.
template <class Fn>
auto run_interruptible(Fn&& fn, bool long_call = true) -> std::invoke_result_t<Fn&> {
  using R = std::invoke_result_t<Fn&>;
  constexpr bool is_void = std::is_void_v<R>;
  using slot = std::conditional_t<is_void, bool, std::optional<R>>;
  if (!long_call) {
    py::gil_scoped_release release;
    return fn();
  }
  std::atomic<bool> cancel{false};
  slot result{};
  std::exception_ptr error;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  auto work = [&] {
    try {
      cancel_scope scope(&cancel);
      if constexpr (is_void)
        fn();
      else
        result.emplace(fn());
    } catch (...) {
      error = std::current_exception();
    }
    std::lock_guard<std::mutex> lock(mu);
    done = true;
    cv.notify_one();
  };
  bool interrupted = false;
  {
    py::gil_scoped_release release;
    std::thread worker;
    try {
      worker = std::thread(work);
    } catch (const std::system_error&) {
      work();  // no thread to spare (a process limit): run here, uninterruptible
    }
    if (worker.joinable()) {
      std::unique_lock<std::mutex> lock(mu);
      while (!cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return done; })) {
        if (interrupted) continue;
        lock.unlock();
        {
          py::gil_scoped_acquire gil;
          // A failing handler leaves its exception set, to be raised below.
          interrupted = PyErr_CheckSignals() != 0;
        }
        if (interrupted) cancel.store(true, std::memory_order_relaxed);
        lock.lock();
      }
      lock.unlock();
      worker.join();
    }
  }
  if (interrupted) throw py::error_already_set();
  if (error) std::rethrow_exception(error);
  if constexpr (!is_void) return std::move(*result);
}

}  // namespace driftcore::bind
