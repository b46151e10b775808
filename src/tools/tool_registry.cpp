#include <algorithm>
#include <map>

#include "core/json_schema.h"
#include "tools/tool.h"

namespace grok::tools {

struct tool_registry::entry {
  std::unique_ptr<tool> impl;
  json_schema schema;
};

tool_registry::tool_registry(std::int64_t output_max_bytes) : output_max_bytes_(output_max_bytes) {}
tool_registry::~tool_registry() = default;

result<void> tool_registry::add(std::unique_ptr<tool> t) {
  if (find(t->name()) != nullptr) {
    return fail(errc::already_exists, "a tool named " + std::string(t->name()) + " exists");
  }
  auto schema = json_schema::compile(t->parameters());
  if (!schema) {
    return fail(errc::invalid_argument,
                "tool " + std::string(t->name()) + ": " + schema.error().message);
  }
  tools_.push_back(std::make_unique<entry>(entry{std::move(t), std::move(*schema)}));
  std::sort(tools_.begin(), tools_.end(),
            [](const auto& a, const auto& b) { return a->impl->name() < b->impl->name(); });
  return {};
}

tool* tool_registry::find(std::string_view name) const {
  for (const auto& e : tools_) {
    if (e->impl->name() == name) return e->impl.get();
  }
  return nullptr;
}

std::vector<const tool*> tool_registry::list() const {
  std::vector<const tool*> out;
  out.reserve(tools_.size());
  for (const auto& e : tools_) out.push_back(e->impl.get());
  return out;
}

result<void> tool_registry::validate_args(std::string_view name, const nlohmann::json& args) const {
  for (const auto& e : tools_) {
    if (e->impl->name() != name) continue;
    if (!args.is_object()) {
      return fail(errc::invalid_argument,
                  "arguments of " + std::string(name) + " must be an object");
    }
    auto valid = e->schema.validate(args);
    if (!valid) {
      return fail(errc::invalid_argument,
                  "invalid arguments for " + std::string(name) + ": " + valid.error().message);
    }
    return {};
  }
  return fail(errc::not_found, "unknown tool " + std::string(name));
}

result<tool_output> tool_registry::invoke(std::string_view name, const nlohmann::json& args,
                                          const tool_context& ctx) const {
  if (auto valid = validate_args(name, args); !valid) return tl::unexpected(valid.error());
  auto out = find(name)->invoke(args, ctx);
  if (!out) return out;
  out->text = cap_output(std::move(out->text), output_max_bytes_);
  return out;
}

std::string cap_output(std::string text, std::int64_t max_bytes) {
  if (max_bytes < 0 || text.size() <= static_cast<std::size_t>(max_bytes)) return text;
  const auto original = text.size();
  auto cut = static_cast<std::size_t>(max_bytes);
  // Back off continuation bytes (10xxxxxx) so no character is split.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0U) == 0x80U) --cut;
  text.resize(cut);
  text += "\n[output cut at " + std::to_string(cut) + " of " + std::to_string(original) + " bytes]";
  return text;
}

}  // namespace grok::tools
