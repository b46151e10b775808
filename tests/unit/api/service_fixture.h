// An api::service wired as `grok serve` wires it, without sockets: a real SQLite store in a
// temp dir, the real engine (no workers: runs stay where the test puts them), the real
// stream hub and the in-process rate limiter on a manual clock. Tests call handle() with
// plain requests. Three keys: admin, runs (alice) and runs (bob).
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "api/http_types.h"
#include "api/problem.h"
#include "api/rate_limiter.h"
#include "api/service.h"
#include "api/stream_hub.h"
#include "core/api_key.h"
#include "core/config.h"
#include "core/ids.h"
#include "engine/engine.h"
#include "engine/models.h"
#include "store/open_store.h"
#include "tests_support/temp_dir.h"
#include "tools/builtin.h"
#include "tools/tool.h"

namespace grok::testing {

struct test_key {
  std::string key;  // what a client sends
  std::string id;   // key_…
};

class service_env {
 public:
  explicit service_env(
      api::service_options options = default_options(), api::readiness_probe probe = {},
      const std::function<std::unique_ptr<store::store>(store::store&)>& wrap = nullptr) {
    cfg.data_dir = dir.path().string();
    cfg.llm_base_url = "http://127.0.0.1:9/v1";  // never called: no workers run
    cfg.planner_model = "planner-m";
    cfg.solver_model = "solver-m";
    auto opened = store::open_store({.url = "sqlite://" + dir.file("grok.db")});
    if (!opened) throw std::runtime_error(opened.error().message);
    own_store = std::move(*opened);
    if (wrap) wrapped_store = wrap(*own_store);
    st = wrapped_store ? wrapped_store.get() : own_store.get();
    tools = std::make_unique<tools::tool_registry>();
    if (auto r = tools::add_builtin_tools(*tools, cfg, *own_store); !r) {
      throw std::runtime_error(r.error().message);
    }
    models = std::make_unique<engine::configured_models>(
        cfg, [](std::string_view) -> std::optional<std::string> { return std::nullopt; });
    auto e = engine::engine::create(*st, *tools, *models, engine::engine_options::from_config(cfg));
    if (!e) throw std::runtime_error(e.error().message);
    eng = std::move(*e);
    hub = std::make_unique<api::stream_hub>(*own_store, api::stream_limits{});
    limiter = api::make_local_rate_limiter(options.rate_limit, clock);
    svc = std::make_unique<api::service>(
        api::service_deps{*st, *eng, *hub, *limiter, clock, std::move(probe)}, std::move(options));
    admin = add_key("admin");
    alice = add_key("runs");
    bob = add_key("runs");
  }

  static api::service_options default_options() {
    api::service_options o;
    o.rate_limit = {.per_second = 1000, .burst = 1000};
    return o;
  }

  test_key add_key(const std::string& scope) {
    auto made = generate_api_key();
    store::api_key_record r;
    r.id = new_id("key", clock.now());
    r.name = scope + " key";
    r.scope = scope;
    r.prefix = made->prefix;
    r.hash = made->hash;
    r.created_at = clock.now();
    auto ok = own_store->transact([&](store::transaction& tx) { return tx.insert_api_key(r); });
    if (!ok) throw std::runtime_error(ok.error().message);
    return {made->key, r.id};
  }

  void revoke(const test_key& k) {
    auto ok = own_store->transact([&](store::transaction& tx) { return tx.revoke_api_key(k.id); });
    if (!ok) throw std::runtime_error(ok.error().message);
  }

  // A request; with a key, its Authorization header; with a body, Content-Type JSON.
  static api::http_request request(std::string method, std::string target,
                                   const test_key* key = nullptr, std::string body = {}) {
    api::http_request r;
    r.method = std::move(method);
    r.target = std::move(target);
    if (key != nullptr) r.headers.emplace_back("Authorization", "Bearer " + key->key);
    if (!body.empty()) r.headers.emplace_back("Content-Type", "application/json");
    r.body = std::move(body);
    r.remote = "127.0.0.1:5555";
    return r;
  }

  api::http_response handle(api::http_request r) { return svc->handle(r); }
  api::http_response get(const std::string& target, const test_key& key) {
    return handle(request("GET", target, &key));
  }
  api::http_response post(const std::string& target, const test_key& key,
                          const nlohmann::json& body) {
    return handle(request("POST", target, &key, body.is_null() ? std::string() : body.dump()));
  }

  // Creates a run through the API; fails the test unless it is 201.
  std::string create_run(const test_key& key, const std::string& input = "what is 2+2?",
                         const nlohmann::json& options = nullptr) {
    nlohmann::json body = {{"input", input}};
    if (!options.is_null()) body["options"] = options;
    auto r = post("/v1/runs", key, body);
    EXPECT_EQ(r.status, 201) << r.body;
    return nlohmann::json::parse(r.body, nullptr, false).value("id", "");
  }

  temp_dir dir;
  manual_clock clock;
  config cfg;
  std::unique_ptr<store::store> own_store;
  std::unique_ptr<store::store> wrapped_store;  // what the service and engine use, if set
  store::store* st = nullptr;
  std::unique_ptr<tools::tool_registry> tools;
  std::unique_ptr<engine::model_hub> models;
  std::unique_ptr<engine::engine> eng;
  std::unique_ptr<api::stream_hub> hub;
  std::unique_ptr<api::rate_limiter> limiter;
  std::unique_ptr<api::service> svc;
  test_key admin;
  test_key alice;
  test_key bob;
};

// The first value of a response header, or "" when absent.
inline std::string header_of(const api::http_response& r, std::string_view name) {
  return std::string(api::find_header(r.headers, name).value_or(""));
}

inline nlohmann::json body_of(const api::http_response& r) {
  return nlohmann::json::parse(r.body, nullptr, false);
}

// Checks that `r` is a problem+json response with `status` and the request id of its
// X-Request-Id header.
inline void expect_problem(const api::http_response& r, int status) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_EQ(header_of(r, "Content-Type"), "application/problem+json");
  const auto body = body_of(r);
  ASSERT_TRUE(body.is_object()) << r.body;
  EXPECT_EQ(body.value("status", 0), status);
  EXPECT_FALSE(body.value("title", "").empty());
  EXPECT_FALSE(body.value("type", "").empty());
  EXPECT_TRUE(body.contains("detail"));
  EXPECT_FALSE(header_of(r, "X-Request-Id").empty());
  EXPECT_EQ(body.value("request_id", ""), header_of(r, "X-Request-Id"));
}

inline std::string detail_of(const api::http_response& r) { return body_of(r).value("detail", ""); }

}  // namespace grok::testing
