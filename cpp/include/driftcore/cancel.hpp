#pragma once
/// @file cancel.hpp
/// @brief Cooperative cancellation of long kernels. A caller installs a flag for its
/// thread with cancel_scope; parallel_ranges() hands it on to the threads it starts,
/// and kernels call throw_if_cancelled() between blocks, so a set flag stops the work
/// within one block. Kernels build results in scratch and commit only at the end, so a
/// cancelled call leaves every state as it was. Without a scope nothing is checked.

#include <atomic>
#include <stdexcept>

namespace driftcore {

/// @brief Thrown by a kernel whose cancellation flag was set.
struct cancelled : std::runtime_error {
  cancelled() : std::runtime_error("driftcore: the call was cancelled") {}
};

/// @brief The flag kernels on this thread check (nullptr: none).
const std::atomic<bool>* current_cancel_flag() noexcept;

/// @brief Installs @p flag as this thread's cancellation flag for the scope's lifetime
/// (restoring the previous one after), so callees need no extra parameter.
class cancel_scope {
 public:
  explicit cancel_scope(const std::atomic<bool>* flag) noexcept;
  ~cancel_scope();
  cancel_scope(const cancel_scope&) = delete;
  cancel_scope& operator=(const cancel_scope&) = delete;

 private:
  const std::atomic<bool>* previous_;
};

/// @brief True when this thread's flag is set.
inline bool cancel_requested() noexcept {
  const std::atomic<bool>* f = current_cancel_flag();
  return f && f->load(std::memory_order_relaxed);
}

/// @brief Call between blocks of work.
/// @throws cancelled when this thread's flag is set.
inline void throw_if_cancelled() {
  if (cancel_requested()) throw cancelled();
}

}  // namespace driftcore
