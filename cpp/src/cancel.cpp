#include "driftcore/cancel.hpp"

namespace driftcore {
namespace {
thread_local const std::atomic<bool>* current = nullptr;
}  // namespace

const std::atomic<bool>* current_cancel_flag() noexcept {
  return current;
}

cancel_scope::cancel_scope(const std::atomic<bool>* flag) noexcept : previous_(current) {
  current = flag;
}

cancel_scope::~cancel_scope() {
  current = previous_;
}

}  // namespace driftcore
