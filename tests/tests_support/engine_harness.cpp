#include "tests_support/engine_harness.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <mutex>

#include "core/json_schema.h"
#include "engine/events.h"
#include "store/open_store.h"
#include "tools/builtin.h"

namespace grok::testing {

using json = nlohmann::json;

config engine_test_config(const std::string& data_dir, const std::string& base_url) {
  config c;
  c.data_dir = data_dir;
  c.db = "sqlite://" + data_dir + "/grok.db";
  c.workers = 4;
  c.llm_base_url = base_url;
  c.planner_model = "planner-m";
  c.solver_model = "solver-m";
  c.llm.models["llm"].model = "tool-m";
  c.llm.max_attempts = 1;
  c.queue.backoff_base = millis(10);
  c.queue.backoff_cap = millis(50);
  c.queue.max_attempts = 3;
  return c;
}

engine_harness::engine_harness(const json& script, const std::function<void(config&)>& tweak,
                               const std::string& db_url)
    : fake(script), cfg(engine_test_config(dir.path().string(), fake.base_url())) {
  if (!db_url.empty()) cfg.db = db_url;
  if (tweak) tweak(cfg);
  auto opened = store::open_store({.url = cfg.effective_db()});
  if (!opened) throw std::runtime_error(opened.error().message);
  st = std::move(*opened);
  tools = std::make_unique<tools::tool_registry>(cfg.tools.output_max_bytes);
  if (auto r = tools::add_builtin_tools(*tools, cfg, *st); !r) {
    throw std::runtime_error(r.error().message);
  }
  models = std::make_unique<engine::configured_models>(
      cfg, [](std::string_view) -> std::optional<std::string> { return std::nullopt; });
  auto e = engine::engine::create(*st, *tools, *models, engine::engine_options::from_config(cfg));
  if (!e) throw std::runtime_error(e.error().message);
  eng = std::move(*e);
  pool = std::make_unique<queue::worker_pool>(*st, queue::worker_pool_options::from_config(cfg));
  eng->register_handlers(*pool);
  pool->start();
}

engine_harness::~engine_harness() { pool->stop(); }

store::run_record engine_harness::submit(const std::string& input, const json& options) {
  engine::create_run_request req;
  req.input = input;
  req.options = options;
  auto run = eng->create_run(req);
  if (!run) ADD_FAILURE() << "create_run: " << run.error().message;
  return run ? *run : store::run_record{};
}

store::run_record engine_harness::wait_until_ended(const std::string& run_id) {
  wait_for_event(run_id, "");
  return **st->get_run(run_id);
}

void engine_harness::wait_for_event(const std::string& run_id, const std::string& type) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::int64_t seq = 0;
  while (std::chrono::steady_clock::now() < give_up) {
    const auto generation = st->events_signal().generation();
    auto evs = st->events_after(run_id, seq, 1000);
    if (!evs) {
      ADD_FAILURE() << evs.error().message;
      return;
    }
    for (const auto& e : *evs) {
      seq = e.seq;
      if (type.empty() ? engine::is_terminal_event(e.type) : e.type == type) return;
    }
    if (evs->empty()) st->events_signal().wait_for_change(generation, std::chrono::seconds(1));
  }
  ADD_FAILURE() << "run " << run_id << ": no " << (type.empty() ? "terminal" : type)
                << " event within 30 s";
}

std::vector<json> engine_harness::events(const std::string& run_id) {
  std::vector<json> out;
  auto evs = st->events_after(run_id, 0, 10'000);
  if (!evs) {
    ADD_FAILURE() << evs.error().message;
    return out;
  }
  std::int64_t expected = 1;
  for (const auto& e : *evs) {
    EXPECT_EQ(e.seq, expected++) << "event sequence has a gap";
    auto env = engine::envelope(e);
    EXPECT_EQ(check_event_schema(env), "") << env.dump();
    out.push_back(std::move(env));
  }
  return out;
}

std::vector<store::step_record> engine_harness::steps(const std::string& run_id) {
  return *st->list_steps(run_id);
}

int engine_harness::requests_containing(const std::string& text, const std::string& model) const {
  int n = 0;
  for (const auto& r : fake.requests()) {
    if (!model.empty() && r["body"].value("model", "") != model) continue;
    const auto& msgs = r["body"]["messages"];
    if (!msgs.is_array() || msgs.empty()) continue;
    const auto& content = msgs.back()["content"];
    if (content.is_string() && content.get<std::string>().find(text) != std::string::npos) ++n;
  }
  return n;
}

std::string check_event_schema(const json& event) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<json_schema>> cache;
  auto schema_for = [](const std::string& name) -> std::shared_ptr<json_schema> {
    std::lock_guard lock(mutex);
    if (auto it = cache.find(name); it != cache.end()) return it->second;
    std::ifstream in(std::string(GROK_SOURCE_DIR) + "/schemas/events/" + name + ".json");
    if (!in) return nullptr;
    json doc = json::parse(in, nullptr, false);
    auto compiled = json_schema::compile(doc);
    if (!compiled) return nullptr;
    auto shared = std::make_shared<json_schema>(std::move(*compiled));
    cache[name] = shared;
    return shared;
  };
  auto envelope = schema_for("envelope");
  if (!envelope) return "schemas/events/envelope.json is missing or invalid";
  if (auto r = envelope->validate(event); !r) return "envelope: " + r.error().message;
  const auto type = event.value("event", "");
  auto typed = schema_for(type);
  if (!typed) return "no schema for event type " + type;
  if (auto r = typed->validate(event); !r) return type + ": " + r.error().message;
  return "";
}

}  // namespace grok::testing
