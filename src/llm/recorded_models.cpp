#include "llm/recorded_models.h"

#include <spdlog/spdlog.h>

#include "core/ids.h"
#include "llm/call_record.h"

namespace grok::llm {

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
  const auto latency =
      std::chrono::duration_cast<millis>(std::chrono::steady_clock::now() - started).count();

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
