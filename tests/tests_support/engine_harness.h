// An engine wired the way `grok serve` wires it (a store, worker pool, model clients over
// HTTP), talking to the scripted fake model server. For tests that drive whole runs
// in-process. The store is SQLite in a temp dir unless a database URL is given (a fresh
// PostgreSQL database: conformance/store_backends.h fresh_postgres_database()).
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/config.h"
#include "engine/engine.h"
#include "engine/models.h"
#include "queue/worker_pool.h"
#include "store/store.h"
#include "tests_support/fake_model_server.h"
#include "tests_support/temp_dir.h"
#include "tools/tool.h"

namespace grok::testing {

// The configuration tests start from: models "planner-m", "solver-m" and "tool-m" (the llm
// tool) on the fake server, fast retries.
config engine_test_config(const std::string& data_dir, const std::string& base_url);

class engine_harness {
 public:
  // `db_url` empty: SQLite in this harness's temp dir. `tweak` runs after db_url is set.
  explicit engine_harness(const nlohmann::json& script,
                          const std::function<void(config&)>& tweak = nullptr,
                          const std::string& db_url = "");
  ~engine_harness();

  // Creates a run; fails the test on error.
  store::run_record submit(const std::string& input,
                           const nlohmann::json& options = nlohmann::json::object());
  // Waits (on the store's event signal) until the run ended; at most 30 s.
  store::run_record wait_until_ended(const std::string& run_id);
  // Waits until an event of `type` is stored for the run; at most 30 s.
  void wait_for_event(const std::string& run_id, const std::string& type);
  // Every event of the run as envelopes, each checked against schemas/events/.
  std::vector<nlohmann::json> events(const std::string& run_id);
  std::vector<store::step_record> steps(const std::string& run_id);
  // The chat requests the fake received whose last message contains `text`.
  // With `model`, only requests for that model count.
  int requests_containing(const std::string& text, const std::string& model = "") const;

  temp_dir dir;
  fake_model_server fake;
  config cfg;
  std::unique_ptr<store::store> st;
  std::unique_ptr<tools::tool_registry> tools;
  std::unique_ptr<engine::model_hub> models;
  std::unique_ptr<engine::engine> eng;
  std::unique_ptr<queue::worker_pool> pool;
};

// Checks an event envelope against schemas/events/envelope.json and the schema of its type.
// Returns an empty string when valid, else what is wrong.
std::string check_event_schema(const nlohmann::json& event);

}  // namespace grok::testing
