#include "engine/prompts.h"

#include <filesystem>
#include <fstream>
#include <kainjow/mustache.hpp>
#include <sstream>

#include "core/embedded_files.h"

namespace grok::engine {

using json = nlohmann::json;
namespace mustache = kainjow::mustache;

namespace {

constexpr std::string_view k_names[] = {"planner", "repair", "replan", "solver", "llm_tool"};
constexpr std::uintmax_t k_max_template_bytes = 256 * 1024;

result<std::string> version_of(std::string_view name, std::string_view text) {
  constexpr std::string_view prefix = "{{! version:";
  if (!text.starts_with(prefix)) {
    return fail(errc::invalid_argument,
                "prompt template " + std::string(name) +
                    " must start with a version line: {{! version: " + std::string(name) + "-1 }}");
  }
  auto end = text.find("}}");
  auto version = std::string(text.substr(prefix.size(), end - prefix.size()));
  while (!version.empty() && version.front() == ' ') version.erase(0, 1);
  while (!version.empty() && version.back() == ' ') version.pop_back();
  if (version.empty()) {
    return fail(errc::invalid_argument,
                "prompt template " + std::string(name) + " has an empty version");
  }
  return version;
}

mustache::data to_data(const json& v) {
  if (v.is_object()) {
    mustache::data out{mustache::data::type::object};
    for (const auto& [key, item] : v.items()) out.set(key, to_data(item));
    return out;
  }
  if (v.is_array()) {
    mustache::data out{mustache::data::type::list};
    for (const auto& item : v) out.push_back(to_data(item));
    return out;
  }
  if (v.is_string()) return {v.get<std::string>()};
  if (v.is_boolean())
    return {v.get<bool>() ? mustache::data::type::bool_true : mustache::data::type::bool_false};
  if (v.is_null()) return {mustache::data::type::bool_false};
  return {v.dump()};
}

}  // namespace

result<prompt_set> prompt_set::load(const std::string& dir) {
  prompt_set set;
  for (auto name : k_names) {
    const std::string file = std::string(name) + ".mustache";
    std::string text(*embedded_file("prompts/" + file));
    if (!dir.empty()) {
      const auto path = std::filesystem::path(dir) / file;
      std::error_code ec;
      if (std::filesystem::exists(path, ec)) {
        auto size = std::filesystem::file_size(path, ec);
        if (ec) return fail(errc::io, "cannot read " + path.string() + ": " + ec.message());
        if (size > k_max_template_bytes) {
          return fail(errc::invalid_argument, path.string() + " is larger than 256 KiB");
        }
        std::ifstream in(path, std::ios::binary);
        std::stringstream buffer;
        buffer << in.rdbuf();
        if (!in.good() && !in.eof()) return fail(errc::io, "cannot read " + path.string());
        text = buffer.str();
      }
    }
    auto version = version_of(name, text);
    if (!version) return tl::unexpected(version.error());
    mustache::mustache parsed(text);
    if (!parsed.is_valid()) {
      return fail(errc::invalid_argument,
                  "prompt template " + file + ": " + parsed.error_message());
    }
    set.templates_[std::string(name)] = {std::string(name), *version, std::move(text)};
  }
  return set;
}

result<std::string> prompt_set::render(std::string_view name, const json& context) const {
  auto it = templates_.find(name);
  if (it == templates_.end())
    return fail(errc::not_found, "no prompt template " + std::string(name));
  mustache::mustache tmpl(it->second.text);
  auto text = tmpl.render(to_data(context));
  if (!tmpl.is_valid()) {
    return fail(errc::internal,
                "prompt template " + std::string(name) + ": " + tmpl.error_message());
  }
  // The version comment renders as an empty first line.
  while (!text.empty() && text.front() == '\n') text.erase(0, 1);
  return text;
}

std::string prompt_set::version(std::string_view name) const {
  auto it = templates_.find(name);
  return it == templates_.end() ? std::string() : it->second.version;
}

}  // namespace grok::engine
