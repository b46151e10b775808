// A chat_model that calls an OpenAI-compatible server (Ollama, vLLM, llama.cpp server,
// LM Studio, paid APIs) with libcurl.
//
// Each call runs a curl multi handle on the calling thread, so that four deadlines can be
// enforced precisely (connect, time to first byte, idle gap between chunks, total for the
// call including retries) and a stop request wakes the transfer at once. Retries: on
// connection errors, 429 (honouring Retry-After), 500, 502, 503, 504 and a stream cut off
// before any content was delivered, with exponential backoff and jitter, capped; never on
// 400/401/403/404 or timeouts. Redirects are not followed; only http and https.
//
// Thread-safety: complete() may be called from many threads at once; calls share nothing
// but the immutable settings.
#pragma once

#include <string>

#include "core/backoff.h"
#include "llm/chat_model.h"

namespace grok::llm {

struct client_timeouts {
  millis connect{10'000};
  millis first_byte{120'000};  // from sending the request to the first response byte
  millis idle{60'000};         // longest gap between two received pieces
  millis total{600'000};       // the whole call, retries included
};

struct client_retry {
  int max_attempts = 4;
  backoff_policy backoff{millis(500), millis(20'000)};
  millis max_retry_after{60'000};  // a longer Retry-After fails the call instead
};

struct client_settings {
  std::string base_url = "http://127.0.0.1:11434/v1";
  std::string api_key;  // sent as a Bearer token when set; never logged
  client_timeouts timeouts;
  client_retry retry;
  std::size_t max_response_bytes = 16 * 1024 * 1024;
  // Fail a call whose finish_reason is "length" or "content_filter" (the partial response
  // is attached to the error).
  bool fail_on_truncation = true;
  // Check a structured-output answer against the request's JSON Schema and fail with
  // failure::invalid_output (response attached) when it does not match. Not retried here:
  // the engine's repair step shows the model its error.
  bool validate_structured_output = true;
};

class openai_client final : public chat_model {
 public:
  explicit openai_client(client_settings settings);
  [[nodiscard]] llm_result<chat_response> complete(const chat_request& request,
                                                   const call_options& options) override;

 private:
  client_settings settings_;
};

// Parses a Retry-After header value: delay-seconds or an HTTP date (relative to `now`).
[[nodiscard]] std::optional<millis> parse_retry_after(std::string_view value, time_point now);

}  // namespace grok::llm
