// The log context of the current thread: the request id and run id that every log line
// written on this thread carries (obs/json_log.h reads it). spdlog 1.10, as packaged in
// Debian 12, has no MDC, so GROK keeps the context itself.
//
// Set it with a `log_scope` for the duration of a unit of work:
//   obs::log_scope scope({.request_id = ctx.request_id});
// A scope sets only the fields it is given; when it ends, the values it replaced come
// back, so scopes nest (a request that runs a job inside keeps its request id).
//
// Thread-safety: the context is thread-local; a scope must end on the thread that began
// it (no scope across a co_await or a hand-off to another thread). Loggers must be
// synchronous (the formatter runs on the logging thread), as init_logging() sets them up.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace grok::obs {

struct log_context {
  std::string request_id;  // empty: none
  std::string run_id;      // empty: none
};

// The calling thread's context (empty fields when no scope is active).
[[nodiscard]] const log_context& current_log_context() noexcept;

class log_scope {
 public:
  // Fields left empty (nullopt) keep the outer scope's value.
  struct fields {
    std::optional<std::string_view> request_id;
    std::optional<std::string_view> run_id;
  };

  explicit log_scope(const fields& f);
  ~log_scope();
  log_scope(const log_scope&) = delete;
  log_scope& operator=(const log_scope&) = delete;
  log_scope(log_scope&&) = delete;
  log_scope& operator=(log_scope&&) = delete;

 private:
  log_context saved_;
};

}  // namespace grok::obs
