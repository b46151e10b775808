// Expected failures as values: `result<T>` is `tl::expected<T, error>`.
//
// g++ 12 has no std::expected; this alias is the one place to switch when it does.
// `error` carries a code from one small enum, a human-readable message and whether the
// operation may succeed if retried. Thread-safety: plain values, no shared state.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <tl/expected.hpp>

namespace grok {

enum class errc {
  invalid_argument,  // the caller's input is wrong
  not_found,
  conflict,  // state changed underneath (lease lost, wrong state for the operation)
  already_exists,
  io,           // the file system or a socket failed
  corrupt,      // a database or file is damaged
  busy,         // a resource is locked; retrying later may work
  unavailable,  // a dependency is down
  timeout,
  cancelled,
  unsupported,      // e.g. a database written by a newer binary
  unauthenticated,  // missing, wrong or stale credentials (a key, a signature)
  internal,         // a bug: an invariant did not hold
};

std::string_view to_string(errc code) noexcept;

struct error {
  errc code = errc::internal;
  std::string message;
  bool retryable = false;
};

template <class T>
using result = tl::expected<T, error>;

// Builds the failed alternative of any result<T>.
[[nodiscard]] inline tl::unexpected<error> fail(errc code, std::string message,
                                                bool retryable = false) {
  return tl::unexpected<error>(error{code, std::move(message), retryable});
}

// "code: message", for logs and CLI output.
std::string describe(const error& e);

}  // namespace grok
