// Files of the repository built into the binary (prompt templates, schemas), by name
// relative to the repository root ("prompts/planner.mustache"). See cmake/embed_files.cmake.
#pragma once

#include <optional>
#include <string_view>

namespace grok {

[[nodiscard]] std::optional<std::string_view> embedded_file(std::string_view name);

}  // namespace grok
