#include "llm/call_record.h"

#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include "llm/openai_wire.h"

namespace grok::llm {

using json = nlohmann::json;

result<std::string> normalized_request(const chat_request& request) {
  chat_request plain = request;
  plain.stream = false;
  auto body = build_request_body(plain);
  if (!body) return tl::unexpected(body.error());
  json doc = json::parse(*body);  // our own output: always valid
  doc.erase("stream");
  return doc.dump();  // nlohmann objects are ordered maps: keys come out sorted
}

result<std::string> request_hash(const chat_request& request) {
  auto text = normalized_request(request);
  if (!text) return tl::unexpected(text.error());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(text->data(), text->size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    return fail(errc::internal, "SHA-256 failed");
  }
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(k_hex[digest[i] >> 4]);
    out.push_back(k_hex[digest[i] & 15]);
  }
  return out;
}

std::string response_to_json(const chat_response& response) {
  json calls = json::array();
  for (const auto& c : response.tool_calls) {
    calls.push_back({{"id", c.id}, {"name", c.name}, {"arguments", c.arguments}});
  }
  json doc = {{"id", response.id},
              {"model", response.model},
              {"content", response.content},
              {"tool_calls", std::move(calls)},
              {"finish_reason", response.finish_reason},
              {"usage", nullptr}};
  if (response.usage) {
    doc["usage"] = {{"prompt_tokens", response.usage->prompt_tokens},
                    {"completion_tokens", response.usage->completion_tokens}};
  }
  return doc.dump();
}

result<chat_response> response_from_json(std::string_view text) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  auto is_str = [&](const char* k) { return doc.contains(k) && doc[k].is_string(); };
  if (doc.is_discarded() || !doc.is_object() || !is_str("content") || !is_str("finish_reason") ||
      !doc.contains("tool_calls") || !doc["tool_calls"].is_array()) {
    return fail(errc::corrupt, "stored model response is not in the expected shape");
  }
  chat_response out;
  out.id = doc.value("id", "");
  out.model = doc.value("model", "");
  out.content = doc["content"].get<std::string>();
  out.finish_reason = doc["finish_reason"].get<std::string>();
  for (const auto& c : doc["tool_calls"]) {
    if (!c.is_object()) return fail(errc::corrupt, "stored tool call is not an object");
    out.tool_calls.push_back({c.value("id", ""), c.value("name", ""), c.value("arguments", "")});
  }
  if (const auto& u = doc["usage"]; u.is_object()) {
    out.usage = token_usage{u.value("prompt_tokens", std::int64_t{0}),
                            u.value("completion_tokens", std::int64_t{0})};
  }
  return out;
}

}  // namespace grok::llm
