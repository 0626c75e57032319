#pragma once
/// @file threading.hpp
/// @brief Fork-join helpers, the only place that starts threads. Work is split into
/// fixed-size blocks whose boundaries do not depend on the thread count, so block-wise
/// results combine identically. A thread the system refuses to start (a container's
/// process limit) is not an error: the threads already running and the calling thread
/// take its ranges, so the result is the same, only slower.

#include <cstddef>
#include <cstdint>
#include <functional>

namespace driftcore {

/// @brief Number of hardware threads (at least 1).
int hardware_threads() noexcept;

/// @brief Resolve a user's `threads` knob: values <= 0 mean "all cores".
int resolve_threads(int threads) noexcept;

/// @brief Threads worth starting for a light pass over @p n values (a histogram fill,
/// moments): at most @p threads (resolved), one per 2^20 values, at least 1. Threads
/// are started per call, and below about 2^20 values each (about 0.3 ms of work here)
/// a second one costs more than it saves: a 2^18-value batch took 0.065 ms of moments
/// on one thread and 0.145 ms on two. Heavier passes (several nanoseconds a value:
/// value grids, exact sums) pay off from fewer values: @p per_thread_log2 is the log2
/// of the values a thread must have. Results never depend on this count.
int value_threads(std::size_t n, int threads, int per_thread_log2 = 20) noexcept;

/// @brief Run `body(worker, begin, end)` over [0, n) split into at most @p threads
/// contiguous ranges, each a multiple of @p grain (except the last). Range `worker` is
/// always the same [begin, end) and runs exactly once, on the calling thread or on one
/// of up to @p threads - 1 started ones (never two ranges of one worker at once). Runs
/// inline when one range suffices. Every started thread is joined before this returns,
/// also when starting one fails or a range throws. Started threads get the caller's
/// cancellation flag (cancel.hpp); a range not yet begun when it is set throws
/// driftcore::cancelled instead of running.
/// @throws the first exception (by worker) thrown by `body`, after all ranges ran.
void parallel_ranges(std::size_t n, std::size_t grain, int threads,
                     const std::function<void(int, std::size_t, std::size_t)>& body);

/// @brief Number of ranges parallel_ranges() will use for these arguments.
int range_count(std::size_t n, std::size_t grain, int threads) noexcept;

/// @brief Like parallel_ranges, with range_count() workers, but each worker takes the
/// next block of @p grain from a shared counter until none is left, so a core slowed
/// by anything else on the machine does less of the work. `body(worker, begin, end)`
/// runs once per block, on whichever worker took it: only for results that do not
/// depend on which worker did which block (integer counts).
void parallel_blocks(std::size_t n, std::size_t grain, int threads,
                     const std::function<void(int, std::size_t, std::size_t)>& body);

/// @brief Testing hook: from now on each parallel call may start at most @p limit
/// threads; the next start fails as under a process limit (std::system_error, EAGAIN).
/// A negative @p limit removes the cap. Results must not change either way.
void set_thread_start_limit(int limit) noexcept;

/// @brief Thread starts refused so far in this process (by the system or the hook).
std::uint64_t refused_thread_starts() noexcept;

}  // namespace driftcore
