#include "llm/stream_accumulator.h"

#include <nlohmann/json.hpp>

#include "llm/json_fields.h"
#include "llm/openai_wire.h"

namespace grok::llm {

using json = nlohmann::json;

result<void> stream_accumulator::add_chunk(std::string_view json_text) {
  // Parsing is the edge where model-server bytes become values; nlohmann reports bad JSON
  // through is_discarded() when exceptions are disabled for the call.
  json chunk = json::parse(sanitize_utf8(json_text), nullptr, /*allow_exceptions=*/false);
  if (chunk.is_discarded() || !chunk.is_object()) {
    return fail(errc::invalid_argument, "stream chunk is not a JSON object");
  }
  ++chunks_;
  if (auto err = chunk.find("error"); err != chunk.end() && !err->is_null()) {
    std::string message = err->is_object() ? string_at(*err, "message") : err->dump();
    return fail(errc::unavailable, "model server reported an error mid-stream: " + message, true);
  }
  if (response_.id.empty()) response_.id = string_at(chunk, "id");
  if (response_.model.empty()) response_.model = string_at(chunk, "model");

  if (auto usage = usage_at(chunk)) response_.usage = usage;

  auto choices = chunk.find("choices");
  if (choices == chunk.end() || !choices->is_array()) return {};
  for (const auto& choice : *choices) {
    if (!choice.is_object()) continue;
    if (auto index = choice.find("index");
        index != choice.end() && index->is_number_integer() && index->get<std::int64_t>() != 0) {
      continue;
    }
    if (auto finish = string_at(choice, "finish_reason"); !finish.empty()) {
      response_.finish_reason = finish;
    }
    auto delta = choice.find("delta");
    if (delta == choice.end() || !delta->is_object()) continue;
    if (auto text = string_at(*delta, "content"); !text.empty()) {
      response_.content += text;
      if (on_content_) on_content_(text);
    }
    auto calls = delta->find("tool_calls");
    if (calls == delta->end() || !calls->is_array()) continue;
    for (const auto& call : *calls) {
      if (!call.is_object()) continue;
      std::int64_t index = static_cast<std::int64_t>(tool_calls_.size());
      if (auto i = call.find("index"); i != call.end() && i->is_number_integer()) {
        index = i->get<std::int64_t>();
      }
      auto& slot = tool_calls_[index];
      if (auto id = string_at(call, "id"); !id.empty()) slot.id = id;
      if (auto fn = call.find("function"); fn != call.end() && fn->is_object()) {
        // The name arrives once; some servers repeat it in every delta, so never append.
        if (auto name = string_at(*fn, "name"); !name.empty() && slot.name.empty())
          slot.name = name;
        slot.arguments += string_at(*fn, "arguments");
      }
    }
  }
  return {};
}

chat_response stream_accumulator::response() const {
  chat_response out = response_;
  for (const auto& [index, call] : tool_calls_) out.tool_calls.push_back(call);
  return out;
}

}  // namespace grok::llm
