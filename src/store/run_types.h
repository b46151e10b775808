// Value types for runs, steps, events and artifacts as the store keeps them (SPEC §4, §6).
// JSON-valued fields (options, args, output, event bodies) are kept as serialized JSON
// text; the layers above parse them into their own structs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"

namespace grok::store {

enum class run_status { queued, running, awaiting_input, completed, failed, cancelled };

std::string_view to_string(run_status s) noexcept;
std::optional<run_status> parse_run_status(std::string_view s) noexcept;
bool is_terminal(run_status s) noexcept;

struct run_record {
  std::string id;  // run_…
  run_status status = run_status::queued;
  std::string input;
  std::string options_json = "{}";
  std::optional<std::string> answer;
  std::optional<std::string> error_code;
  std::optional<std::string> error_message;
  std::optional<std::string> owner_key_id;  // the API key that created it
  std::optional<std::string> idempotency_key;
  std::optional<std::string> request_hash;  // of the creating request body
  // The W3C traceparent the creating request carried (validated, lowercase): the run's
  // trace continues the caller's. Empty: the run's trace is its own (obs/run_tracer.h).
  // Set at insert; never changed.
  std::optional<std::string> trace_parent;
  time_point created_at;
  std::optional<time_point> started_at;
  std::optional<time_point> finished_at;
  std::int64_t tokens_in = 0;
  std::int64_t tokens_out = 0;
  double cost = 0;
  std::int64_t last_seq = 0;  // the highest event sequence number assigned
};

struct run_page_request {
  std::optional<run_status> status;
  std::optional<std::string> owner_key_id;
  std::optional<std::string> before_id;  // cursor: ids smaller than this (newest first)
  int limit = 50;
};

struct step_record {
  std::string id;  // step_…
  std::string run_id;
  std::string name;  // planner | worker.E1 | solver
  std::optional<std::string> tool;
  std::string args_json = "{}";
  std::string status = "pending";
  int attempts = 0;
  std::optional<std::string> output;
  std::optional<std::string> output_artifact_id;
  std::optional<std::string> error;
  std::optional<time_point> started_at;
  std::optional<time_point> finished_at;
  std::int64_t tokens_in = 0;
  std::int64_t tokens_out = 0;
  std::int64_t latency_ms = 0;
  std::optional<std::string> prompt_version;
};

// An event before it is stored: the store assigns `seq`.
struct event_draft {
  std::string run_id;
  std::string type;  // e.g. "step.completed"
  std::optional<std::string> step_id;
  std::optional<std::string> name;
  time_point ts;
  std::string body_json = "{}";  // the envelope fields beyond the ones above
};

struct event_record {
  std::string run_id;
  std::int64_t seq = 0;
  std::string type;
  std::optional<std::string> step_id;
  std::optional<std::string> name;
  time_point ts;
  std::string body_json;
};

struct artifact_record {
  std::string id;  // art_…
  std::string kind;
  std::string uri;
  std::string sha256;  // hex
  std::int64_t size = 0;
  std::optional<std::string> run_id;
  time_point created_at;
};

// One model call, as recorded for audit and replay (SPEC §6: llm_calls).
struct llm_call_record {
  std::string id;  // llm_…
  std::optional<std::string> run_id;
  std::optional<std::string> step_id;
  std::string role;      // planner | solver | llm | repair | replan
  std::string provider;  // openai | ollama | replay
  std::string model;
  std::string request_hash;  // hex SHA-256 of the normalized request
  std::string request_json;
  std::optional<std::string> response_json;  // set when status == "ok"
  std::optional<std::string> error;          // set when status == "error"
  std::string status = "ok";
  std::int64_t latency_ms = 0;
  std::optional<std::int64_t> tokens_in;  // empty: the server reported no usage
  std::optional<std::int64_t> tokens_out;
  time_point created_at;
};

}  // namespace grok::store
