#include "driftcore/build_info.hpp"

#include "build_config.hpp"

namespace driftcore {
std::string version() {
  return DRIFTCORE_VERSION;
}
std::string compiler() {
  return DRIFTCORE_CXX_COMPILER;
}
}  // namespace driftcore
