// The binary's version and the newest schema version it understands.
#pragma once

#include <string_view>

namespace grok {

inline constexpr std::string_view k_version = "0.1.0";

}  // namespace grok
