// Typed failures of a model call. Callers decide by `kind` (retry, tell the user what to
// start or set, fail the run); `to_error` folds one into the project-wide `error`.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"
#include "llm/chat_types.h"

namespace grok::llm {

enum class failure {
  unreachable,     // could not connect, or the connection broke
  auth,            // 401 / 403
  rate_limited,    // 429 after all retries
  server_error,    // 5xx after all retries
  bad_request,     // 400 / 404 / 422: the request (or model name) is wrong
  timeout,         // connect, first byte, idle gap or total deadline
  bad_response,    // not the protocol: not JSON, wrong shape, stream cut short, too large
  content_filter,  // finish_reason content_filter
  length,          // finish_reason length: the output was cut at max_tokens
  cancelled,
  not_recorded,    // replay: no recorded call matches the request
  invalid_output,  // structured output that is not JSON or breaks the requested schema
};

std::string_view to_string(failure f) noexcept;

struct llm_error {
  failure kind = failure::bad_response;
  std::string message;
  int http_status = 0;
  int attempts = 0;                      // calls made, retries included
  std::optional<millis> retry_after;     // what the server asked for, if anything
  std::optional<chat_response> partial;  // what arrived before a length/filter stop

  [[nodiscard]] bool retryable() const noexcept;
};

template <class T>
using llm_result = tl::expected<T, llm_error>;

[[nodiscard]] error to_error(const llm_error& e);

}  // namespace grok::llm
