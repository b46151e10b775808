// Assembles a streamed chat completion from its `chat.completion.chunk` JSON objects.
//
// Handles what real servers send: content deltas, `tool_calls` deltas whose
// `function.arguments` arrive in fragments (joined per `index`), the id and name arriving
// once, a finish_reason on the last choice chunk, and the usage-only chunk of
// `stream_options.include_usage` (with `choices` empty, null or missing). Unknown fields
// are ignored. Only choice index 0 is kept (GROK never asks for n > 1).
//
// Thread-safety: one accumulator per stream, used by one thread.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "core/result.h"
#include "llm/chat_types.h"

namespace grok::llm {

class stream_accumulator {
 public:
  // Called with each new piece of content text as it arrives.
  using content_callback = std::function<void(std::string_view)>;

  explicit stream_accumulator(content_callback on_content = nullptr)
      : on_content_(std::move(on_content)) {}

  // Adds one chunk (the `data:` payload of one event). errc::invalid_argument for a chunk
  // that is not a JSON object; an `error` object sent in-stream is errc::unavailable.
  [[nodiscard]] result<void> add_chunk(std::string_view json_text);

  // The response so far (complete once the stream has ended).
  [[nodiscard]] chat_response response() const;
  [[nodiscard]] std::size_t chunks() const noexcept { return chunks_; }

 private:
  content_callback on_content_;
  chat_response response_;
  std::map<std::int64_t, tool_call> tool_calls_;  // by delta index
  std::size_t chunks_ = 0;
};

}  // namespace grok::llm
