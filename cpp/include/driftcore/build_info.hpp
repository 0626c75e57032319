#pragma once
/// @file build_info.hpp
/// @brief What this build of the engine is.
#include <string>

namespace driftcore {
/// @brief Engine version string.
std::string version();
/// @brief Compiler id and version that built the engine.
std::string compiler();
}  // namespace driftcore
