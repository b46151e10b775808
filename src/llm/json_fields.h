// Tolerant readers for fields of model-server JSON, shared by the plain and streamed
// response parsers: a missing, null or wrongly typed field reads as absent, never throws.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "llm/chat_types.h"

namespace grok::llm {

// The string member `key` of `obj`, or "" when absent or not a string.
inline std::string string_at(const nlohmann::json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

// The `usage` report of a response or chunk; empty when the server sent none.
inline std::optional<token_usage> usage_at(const nlohmann::json& obj) {
  auto usage = obj.find("usage");
  if (usage == obj.end() || !usage->is_object()) return std::nullopt;
  token_usage u;
  if (auto p = usage->find("prompt_tokens"); p != usage->end() && p->is_number_integer()) {
    u.prompt_tokens = p->get<std::int64_t>();
  }
  if (auto c = usage->find("completion_tokens"); c != usage->end() && c->is_number_integer()) {
    u.completion_tokens = c->get<std::int64_t>();
  }
  return u;
}

}  // namespace grok::llm
