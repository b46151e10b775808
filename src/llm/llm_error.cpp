#include "llm/llm_error.h"

namespace grok::llm {

std::string_view to_string(failure f) noexcept {
  switch (f) {
    case failure::unreachable:
      return "unreachable";
    case failure::auth:
      return "auth";
    case failure::rate_limited:
      return "rate_limited";
    case failure::server_error:
      return "server_error";
    case failure::bad_request:
      return "bad_request";
    case failure::timeout:
      return "timeout";
    case failure::bad_response:
      return "bad_response";
    case failure::content_filter:
      return "content_filter";
    case failure::length:
      return "length";
    case failure::cancelled:
      return "cancelled";
    case failure::not_recorded:
      return "not_recorded";
    case failure::invalid_output:
      return "invalid_output";
  }
  return "unknown";
}

bool llm_error::retryable() const noexcept {
  switch (kind) {
    case failure::unreachable:
    case failure::rate_limited:
    case failure::server_error:
    case failure::bad_response:
    case failure::timeout:
      return true;
    default:
      return false;
  }
}

error to_error(const llm_error& e) {
  errc code = errc::unavailable;
  switch (e.kind) {
    case failure::bad_request:
    case failure::auth:
    case failure::content_filter:
    case failure::length:
    case failure::invalid_output:
      code = errc::invalid_argument;
      break;
    case failure::timeout:
      code = errc::timeout;
      break;
    case failure::cancelled:
      code = errc::cancelled;
      break;
    case failure::rate_limited:
      code = errc::busy;
      break;
    default:
      break;
  }
  return {code, "model " + std::string(to_string(e.kind)) + ": " + e.message, e.retryable()};
}

}  // namespace grok::llm
