// Record and replay of model calls (SPEC §6 llm_calls).
//
// recording_model wraps any chat_model and stores every call (request, response or error,
// latency, tokens) in the store's llm_calls, keyed by the normalized request's hash.
// replay_model answers from those records without any model server, and fails loudly
// (failure::not_recorded) on a request that was never recorded.
//
// Thread-safety: both may be used from many threads, like the store they write to.
#pragma once

#include <optional>
#include <string>

#include "core/clock.h"
#include "llm/chat_model.h"
#include "store/store.h"

namespace grok::llm {

class recording_model final : public chat_model {
 public:
  // `provider` is stored with each record ("openai", "ollama", …).
  recording_model(chat_model& inner, store::store& st, std::string provider);
  [[nodiscard]] llm_result<chat_response> complete(const chat_request& request,
                                                   const call_options& options) override;

 private:
  chat_model& inner_;
  store::store& store_;
  std::string provider_;
};

class replay_model final : public chat_model {
 public:
  // With `run_id`, only that run's records answer (a faithful replay of one run);
  // without, any recorded call with the same request does.
  explicit replay_model(store::store& st, std::optional<std::string> run_id = std::nullopt);
  [[nodiscard]] llm_result<chat_response> complete(const chat_request& request,
                                                   const call_options& options) override;

 private:
  store::store& store_;
  std::optional<std::string> run_id_;
};

}  // namespace grok::llm
