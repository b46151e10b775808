#include "llm/openai_wire.h"

#include <nlohmann/json.hpp>

#include "llm/json_fields.h"

namespace grok::llm {
namespace {

using json = nlohmann::json;

// Length of the valid UTF-8 sequence starting at text[i], or 0 if it is invalid.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(text[i]);
  if (b0 < 0x80) return 1;
  std::size_t len = 0;
  unsigned min = 0;
  unsigned cp = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, min = 0x80, cp = b0 & 0x1FU;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, min = 0x800, cp = b0 & 0x0FU;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, min = 0x10000, cp = b0 & 0x07U;
  } else {
    return 0;
  }
  if (i + len > text.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(text[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3FU);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

}  // namespace

std::string sanitize_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    auto len = utf8_sequence_length(text, i);
    if (len == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(text.substr(i, len));
      i += len;
    }
  }
  return out;
}

std::string safe_excerpt(std::string_view text, std::size_t max_bytes) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    auto len = utf8_sequence_length(text, i);
    std::string piece;
    if (len == 0) {
      piece = "\\x??";
      len = 1;
    } else if (len == 1 && (static_cast<unsigned char>(text[i]) < 0x20 || text[i] == 0x7F)) {
      piece =
          text[i] == '\n' ? "\\n" : (text[i] == '\r' ? "\\r" : (text[i] == '\t' ? "\\t" : "\\x??"));
    } else {
      piece = std::string(text.substr(i, len));
    }
    if (out.size() + piece.size() > max_bytes) {
      out += "…";
      break;
    }
    out += piece;
    i += len;
  }
  return out;
}

result<std::string> build_request_body(const chat_request& request) {
  json body;
  body["model"] = request.model;
  json messages = json::array();
  for (const auto& m : request.messages) {
    json msg{{"role", m.role}, {"content", sanitize_utf8(m.content)}};
    if (!m.tool_calls.empty()) {
      json calls = json::array();
      for (const auto& c : m.tool_calls) {
        calls.push_back(
            {{"id", c.id},
             {"type", "function"},
             {"function", {{"name", c.name}, {"arguments", sanitize_utf8(c.arguments)}}}});
      }
      msg["tool_calls"] = std::move(calls);
    }
    if (m.tool_call_id) msg["tool_call_id"] = *m.tool_call_id;
    messages.push_back(std::move(msg));
  }
  body["messages"] = std::move(messages);
  if (request.temperature) body["temperature"] = *request.temperature;
  if (request.max_tokens) body["max_tokens"] = *request.max_tokens;
  if (!request.stop.empty()) body["stop"] = request.stop;
  if (request.seed) body["seed"] = *request.seed;
  if (request.json_schema) {
    json schema = json::parse(*request.json_schema, nullptr, /*allow_exceptions=*/false);
    if (schema.is_discarded() || !schema.is_object()) {
      return fail(errc::invalid_argument, "the structured-output JSON Schema is not a JSON object");
    }
    if (request.output_style == structured_output_style::ollama_format) {
      body["format"] = std::move(schema);
    } else {
      body["response_format"] = {
          {"type", "json_schema"},
          {"json_schema",
           {{"name", request.json_schema_name}, {"schema", std::move(schema)}, {"strict", true}}}};
    }
  }
  body["stream"] = request.stream;
  if (request.stream) body["stream_options"] = {{"include_usage", true}};
  return body.dump();
}

llm_result<chat_response> parse_response_body(std::string_view body) {
  auto bad = [&](const std::string& why) {
    return tl::unexpected(llm_error{failure::bad_response, why + ": " + safe_excerpt(body)});
  };
  json doc = json::parse(sanitize_utf8(body), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return bad("response is not JSON");
  if (!doc.is_object()) return bad("response is not a JSON object");
  if (auto err = doc.find("error"); err != doc.end() && !err->is_null()) {
    return tl::unexpected(llm_error{failure::bad_response,
                                    "server returned an error: " + error_message_from_body(body)});
  }
  auto choices = doc.find("choices");
  if (choices == doc.end() || !choices->is_array() || choices->empty() ||
      !(*choices)[0].is_object()) {
    return bad("response has no choices");
  }
  const auto& choice = (*choices)[0];
  auto message = choice.find("message");
  if (message == choice.end() || !message->is_object())
    return bad("response choice has no message");

  chat_response out;
  out.id = string_at(doc, "id");
  out.model = string_at(doc, "model");
  out.content = string_at(*message, "content");
  out.finish_reason = string_at(choice, "finish_reason");
  if (auto calls = message->find("tool_calls"); calls != message->end() && calls->is_array()) {
    for (const auto& c : *calls) {
      if (!c.is_object()) continue;
      tool_call call;
      call.id = string_at(c, "id");
      if (auto fn = c.find("function"); fn != c.end() && fn->is_object()) {
        call.name = string_at(*fn, "name");
        auto args = fn->find("arguments");
        // Some servers send arguments as an object rather than a JSON string.
        if (args != fn->end())
          call.arguments = args->is_string() ? args->get<std::string>() : args->dump();
      }
      out.tool_calls.push_back(std::move(call));
    }
  }
  out.usage = usage_at(doc);
  return out;
}

std::string error_message_from_body(std::string_view body) {
  json doc = json::parse(sanitize_utf8(body), nullptr, /*allow_exceptions=*/false);
  if (!doc.is_discarded() && doc.is_object()) {
    if (auto err = doc.find("error"); err != doc.end()) {
      if (err->is_string()) return safe_excerpt(err->get<std::string>());
      if (err->is_object()) {
        if (auto msg = string_at(*err, "message"); !msg.empty()) return safe_excerpt(msg);
      }
    }
    if (auto msg = string_at(doc, "message"); !msg.empty()) return safe_excerpt(msg);
  }
  return safe_excerpt(body);
}

}  // namespace grok::llm
