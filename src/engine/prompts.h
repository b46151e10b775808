// Prompt templates (SPEC §5): Mustache files with a version, recorded on every step that
// used them. The templates in prompts/ are built into the binary; `engine.prompts_dir`
// points at a directory whose files replace them one by one, for tuning without a rebuild.
//
// A template's first line is a Mustache comment naming its version: {{! version: planner-1 }}.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/result.h"

namespace grok::engine {

struct prompt_template {
  std::string name;     // planner | repair | replan | solver | llm_tool
  std::string version;  // from the first line, e.g. "planner-1"
  std::string text;
};

class prompt_set {
 public:
  // The built-in templates, each replaced by <dir>/<name>.mustache when that file exists.
  // errc::invalid_argument for a template that does not parse or has no version line.
  static result<prompt_set> load(const std::string& dir = "");

  // Renders `name` with `context` (objects, arrays, strings, numbers, booleans).
  [[nodiscard]] result<std::string> render(std::string_view name,
                                           const nlohmann::json& context) const;
  [[nodiscard]] std::string version(std::string_view name) const;

 private:
  std::map<std::string, prompt_template, std::less<>> templates_;
};

}  // namespace grok::engine
