// The interface the engine uses to talk to a model: one chat completion per call.
// Implementations: openai_client (HTTP), and later recording and replaying decorators.
//
// Thread-safety: implementations must allow concurrent calls from many threads.
#pragma once

#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

#include "llm/chat_types.h"
#include "llm/llm_error.h"

namespace grok::llm {

struct call_options {
  // Requested stop: an in-flight call is aborted promptly and fails with failure::cancelled.
  std::stop_token stop;
  // Streamed content as it arrives (streaming requests only).
  std::function<void(std::string_view)> on_delta;
  // Who is calling, for the record of the call (llm_calls).
  std::optional<std::string> run_id;
  std::optional<std::string> step_id;
  std::string role = "llm";
};

class chat_model {
 public:
  virtual ~chat_model() = default;
  [[nodiscard]] virtual llm_result<chat_response> complete(const chat_request& request,
                                                           const call_options& options) = 0;
};

}  // namespace grok::llm
