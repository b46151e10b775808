#include "llm/recorded_models.h"

#include <spdlog/spdlog.h>

#include "core/ids.h"
#include "llm/call_record.h"
#include "obs/metrics.h"

namespace grok::llm {
namespace {

// Live model calls for /metrics, by role (planner, solver, repair, replan, llm: set by the
// engine, bounded by a guard all the same).
struct model_metrics {
  obs::counter_family& calls;
  obs::counter_family& tokens;
  obs::histogram_family& duration;
  obs::label_guard roles{16};
};

model_metrics& metrics() {
  static model_metrics m{
      obs::metrics().counter("grok_model_calls_total",
                             "Calls to a model server, by role and outcome (ok or error).",
                             {"role", "outcome"}),
      obs::metrics().counter(
          "grok_model_tokens_total",
          "Tokens the model servers reported, by role and direction (in: prompt, out: completion).",
          {"role", "direction"}),
      obs::metrics().histogram(
          "grok_model_call_duration_seconds",
          "Time a model call took (a streamed call: to its last chunk), by role.", {"role"})};
  return m;
}

}  // namespace

recording_model::recording_model(chat_model& inner, store::store& st, std::string provider)
    : inner_(inner), store_(st), provider_(std::move(provider)) {}

llm_result<chat_response> recording_model::complete(const chat_request& request,
                                                    const call_options& options) {
  auto normalized = normalized_request(request);
  auto hash = request_hash(request);
  if (!normalized || !hash) {
    return tl::unexpected(
        llm_error{failure::bad_request, (normalized ? hash.error() : normalized.error()).message});
  }
  const auto started = std::chrono::steady_clock::now();
  auto outcome = inner_.complete(request, options);
  const auto elapsed = std::chrono::steady_clock::now() - started;
  const auto latency = std::chrono::duration_cast<millis>(elapsed).count();

  auto& m = metrics();
  const auto role = m.roles.admit(options.role);
  m.calls.inc({role, outcome ? "ok" : "error"});
  m.duration.observe({role}, std::chrono::duration<double>(elapsed).count());
  if (outcome && outcome->usage) {
    m.tokens.inc({role, "in"}, static_cast<double>(outcome->usage->prompt_tokens));
    m.tokens.inc({role, "out"}, static_cast<double>(outcome->usage->completion_tokens));
  }

  store::llm_call_record record;
  record.id = new_id("llm", store_.store_clock().now());
  record.run_id = options.run_id;
  record.step_id = options.step_id;
  record.role = options.role;
  record.provider = provider_;
  record.model = request.model;
  record.request_hash = *hash;
  record.request_json = *normalized;
  record.latency_ms = latency;
  record.created_at = store_.store_clock().now();
  if (outcome) {
    record.status = "ok";
    record.response_json = response_to_json(*outcome);
    if (outcome->usage) {
      record.tokens_in = outcome->usage->prompt_tokens;
      record.tokens_out = outcome->usage->completion_tokens;
    }
  } else {
    record.status = "error";
    record.error = std::string(to_string(outcome.error().kind)) + ": " + outcome.error().message;
  }
  if (auto r = store_.transact([&](store::transaction& tx) { return tx.record_llm_call(record); });
      !r) {
    // The answer is still good; losing its record only costs a replay. Say so loudly.
    spdlog::error("could not record model call {} (run {}): {}", record.id,
                  record.run_id.value_or("-"), describe(r.error()));
  }
  return outcome;
}

replay_model::replay_model(store::store& st, std::optional<std::string> run_id)
    : store_(st), run_id_(std::move(run_id)) {}

llm_result<chat_response> replay_model::complete(const chat_request& request,
                                                 const call_options& options) {
  auto hash = request_hash(request);
  if (!hash) return tl::unexpected(llm_error{failure::bad_request, hash.error().message});
  auto found = store_.find_llm_call(
      *hash, run_id_ ? std::optional<std::string_view>(*run_id_) : std::nullopt);
  if (!found)
    return tl::unexpected(
        llm_error{failure::unreachable, "reading recorded calls: " + found.error().message});
  if (!*found) {
    return tl::unexpected(
        llm_error{failure::not_recorded, "no recorded model call matches this request (model " +
                                             request.model + ", hash " + hash->substr(0, 12) +
                                             "); the run diverged from its recording"});
  }
  auto response = response_from_json((*found)->response_json.value_or(""));
  if (!response) return tl::unexpected(llm_error{failure::bad_response, response.error().message});
  if (options.on_delta && !response->content.empty()) options.on_delta(response->content);
  return std::move(*response);
}

}  // namespace grok::llm
