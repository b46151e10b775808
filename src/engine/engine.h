// The agent engine (SPEC §4, §5): the ReWOO loop as durable queue jobs.
//
// A run is a state machine driven by job completions:
//   run.plan   → the planner writes a plan (one repair call if it is invalid);
//   run.step   → one job per plan step, released once the evidence it names is stored;
//                independent steps run in parallel on the worker pool;
//   run.replan → after a failed step, when the run has replans left;
//   run.solve  → the solver writes the answer, streamed as llm.delta events;
//   run.deadline → fails the run if it has not ended by its deadline.
// Every state change commits in one transaction with the events that record it and the
// jobs it releases, so a crash at any point leaves a consistent run that the jobs resume:
// a stored step result is never recomputed, and a model call already recorded in
// llm_calls is answered from there instead of calling the model again.
//
// Thread-safety: all public methods may be called from any thread.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/config.h"
#include "core/result.h"
#include "engine/models.h"
#include "engine/prompts.h"
#include "queue/worker_pool.h"
#include "store/store.h"
#include "tools/tool.h"

namespace grok::engine {

inline constexpr std::string_view k_topic_plan = "run.plan";
inline constexpr std::string_view k_topic_step = "run.step";
inline constexpr std::string_view k_topic_replan = "run.replan";
inline constexpr std::string_view k_topic_solve = "run.solve";
inline constexpr std::string_view k_topic_deadline = "run.deadline";

struct engine_options {
  engine_config defaults;
  std::map<std::string, model_price, std::less<>> prices;
  int step_max_attempts = 3;  // tries of one step whose tool fails in a retryable way
  backoff_policy step_backoff;
  // Jobs are retried this often when a process dies holding them; the run deadline ends
  // runs whose jobs keep dying.
  int job_max_attempts = 10;
  // llm.delta events are stored when this many bytes are buffered, or this long after the
  // first buffered byte: fewer, larger events for fast models.
  std::size_t delta_flush_bytes = 64;
  std::chrono::milliseconds delta_flush_interval{50};

  static engine_options from_config(const config& c);
};

struct create_run_request {
  std::string input;
  nlohmann::json options;  // as in POST /v1/runs; null for the defaults
  std::optional<std::string> owner_key_id;
  std::optional<std::string> idempotency_key;
  std::optional<std::string> request_hash;
  // A valid W3C traceparent from the caller (the API checks it); stored with the run.
  std::optional<std::string> trace_parent;
};

struct approval {
  bool approve = true;
  std::optional<nlohmann::json> plan;  // an edited plan, validated like the planner's
  std::string reason;                  // why it was rejected
};

class engine {
 public:
  // Loads the prompt templates and adds the `llm` tool to `tools`.
  static result<std::unique_ptr<engine>> create(store::store& st, tools::tool_registry& tools,
                                                model_hub& models, engine_options options);
  ~engine();
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  // Routes the run.* topics to this engine. Before pool.start().
  void register_handlers(queue::worker_pool& pool);

  // Validates the input and options, stores the run with run.created and releases its plan
  // job. errc::invalid_argument for an empty or oversized input or bad options.
  [[nodiscard]] result<store::run_record> create_run(const create_run_request& request);

  // Ends a run `cancelled`; running steps and model calls in this process stop.
  // errc::not_found, errc::conflict when it already ended.
  [[nodiscard]] result<void> cancel_run(std::string_view run_id, const std::string& reason);

  // For a run in awaiting_input. errc::conflict when it is not waiting;
  // errc::invalid_argument for an invalid edited plan (the run keeps waiting).
  [[nodiscard]] result<void> approve_run(std::string_view run_id, const approval& decision);

  [[nodiscard]] const tools::tool_registry& tools() const;
  [[nodiscard]] const prompt_set& prompts() const;

  struct impl;  // opaque; public so that the engine's own tools (llm) can reach it

 private:
  explicit engine(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

// Largest accepted task text.
inline constexpr std::size_t k_max_input_bytes = 64 * 1024;

}  // namespace grok::engine
