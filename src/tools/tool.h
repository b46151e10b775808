// Built-in tools (SPEC §5): what a plan step calls. Every tool declares a JSON Schema for
// its arguments; the registry validates arguments against it before the tool runs, and
// cuts outputs to a configured size.
//
// Tools run on worker threads, many at once: invoke() must be thread-safe. A tool must
// return promptly once `ctx.stop` is requested (cancellation, step timeout, shutdown).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace grok::tools {

struct tool_context {
  std::string run_id;
  std::string evidence_id;  // "E1"
  // run id + evidence id + hash of the arguments (SPEC §5): the same for every retry of
  // one step, so a tool with side effects can refuse to repeat one.
  std::string idempotency_key;
  std::stop_token stop;  // requested on cancellation, timeout or shutdown
  std::chrono::milliseconds timeout{60'000};
  std::string step_id;  // the step's row (step_…), for records such as model calls
};

struct tool_output {
  std::string text;
  // Tokens a tool spent on model calls (the `llm` tool); zero for the others.
  std::int64_t tokens_in = 0;
  std::int64_t tokens_out = 0;
  std::string model;  // the model those tokens were spent on, for the price table
};

class tool {
 public:
  virtual ~tool() = default;
  [[nodiscard]] virtual std::string_view name() const = 0;
  [[nodiscard]] virtual std::string_view description() const = 0;
  // The JSON Schema of the arguments object.
  [[nodiscard]] virtual const nlohmann::json& parameters() const = 0;
  // Errors: errc::invalid_argument for arguments the tool cannot use (never retried),
  // errc::timeout / errc::unavailable for failures a retry may fix (error::retryable),
  // errc::cancelled when ctx.stop was requested.
  [[nodiscard]] virtual result<tool_output> invoke(const nlohmann::json& args,
                                                   const tool_context& ctx) = 0;
};

class tool_registry {
 public:
  explicit tool_registry(std::int64_t output_max_bytes = 32 * 1024);
  ~tool_registry();
  tool_registry(const tool_registry&) = delete;
  tool_registry& operator=(const tool_registry&) = delete;

  // errc::already_exists for a second tool of the same name.
  result<void> add(std::unique_ptr<tool> t);
  [[nodiscard]] tool* find(std::string_view name) const;
  // In name order.
  [[nodiscard]] std::vector<const tool*> list() const;

  // Checks `args` against the tool's schema; the error names the offending field.
  [[nodiscard]] result<void> validate_args(std::string_view name, const nlohmann::json& args) const;

  // Validates, invokes, and cuts the output to output_max_bytes (at a UTF-8 boundary,
  // with a note saying how much was cut).
  [[nodiscard]] result<tool_output> invoke(std::string_view name, const nlohmann::json& args,
                                           const tool_context& ctx) const;

 private:
  struct entry;
  std::vector<std::unique_ptr<entry>> tools_;
  std::int64_t output_max_bytes_;
};

// Cuts `text` to at most `max_bytes` bytes at a UTF-8 character boundary and appends a note
// with the original size when it was cut.
std::string cap_output(std::string text, std::int64_t max_bytes);

}  // namespace grok::tools
