// The chat-completion request and response as GROK uses them, independent of the wire
// format (llm/openai_wire.h converts to and from OpenAI-compatible JSON).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace grok::llm {

struct tool_call {
  std::string id;
  std::string name;
  std::string arguments;  // JSON text as the model produced it (may be invalid)
};

struct chat_message {
  std::string role;  // system | user | assistant | tool
  std::string content;
  std::vector<tool_call> tool_calls;        // assistant messages
  std::optional<std::string> tool_call_id;  // tool messages
};

// How structured output is requested from the server.
enum class structured_output_style {
  response_format,  // OpenAI, vLLM, llama.cpp: {"response_format": {"type": "json_schema", …}}
  ollama_format,    // Ollama: {"format": <schema>}
};

struct chat_request {
  std::string model;
  std::vector<chat_message> messages;
  std::optional<double> temperature;
  std::optional<int> max_tokens;
  std::vector<std::string> stop;
  std::optional<std::int64_t> seed;
  // A JSON Schema (as JSON text) the answer must follow; empty for free text.
  std::optional<std::string> json_schema;
  std::string json_schema_name = "output";
  structured_output_style output_style = structured_output_style::response_format;
  bool stream = false;
};

struct token_usage {
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
};

struct chat_response {
  std::string id;
  std::string model;
  std::string content;
  std::vector<tool_call> tool_calls;
  std::string finish_reason;  // stop | length | tool_calls | content_filter | "" (not sent)
  // Empty when the server sent no usage report: counts are never invented.
  std::optional<token_usage> usage;
};

}  // namespace grok::llm
