// Fuzzes the HTTP API's request path end to end without sockets: raw bytes are parsed as
// an HTTP/1.1 request by Beast under the server's limits, converted as the transport does
// (http/message.h), and handled by the real service (routing, auth, rate limits, query and
// body parsing, JSON Schema validation, the route handlers) over a real SQLite store.
//
// So that inputs reach past authentication, the bearer tokens "A" and "R" are replaced by
// a real admin and runs key, and "RUNID" in the target by a real run's id. Paths outside
// the API go to the web UI's static route over a three-file table.
//
// Invariants checked on every handled request: a status in 100..599, an X-Request-Id
// header, and for errors a problem+json body that parses and carries that status.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "api/rate_limiter.h"
#include "api/service.h"
#include "api/stream_hub.h"
#include "api/ui_assets.h"
#include "core/api_key.h"
#include "core/ids.h"
#include "engine/engine.h"
#include "engine/models.h"
#include "http/message.h"
#include "store/open_store.h"
#include "tools/builtin.h"

namespace {

using namespace grok;

struct world {
  std::filesystem::path dir;
  std::unique_ptr<store::store> store;
  std::unique_ptr<tools::tool_registry> tools;
  std::unique_ptr<engine::model_hub> models;
  std::unique_ptr<engine::engine> engine;
  std::unique_ptr<api::rate_limiter> limiter;
  std::unique_ptr<api::stream_hub> hub;
  std::unique_ptr<api::service> service;
  std::string admin_key, runs_key, run_id;
};

template <class T>
T must(result<T> r) {
  if (!r) std::abort();
  return std::move(*r);
}

std::string add_key(store::store& st, const std::string& scope) {
  auto made = must(generate_api_key());
  store::api_key_record k;
  k.id = new_id("key", st.store_clock().now());
  k.name = "fuzz-" + scope;
  k.scope = scope;
  k.prefix = made.prefix;
  k.hash = made.hash;
  k.created_at = st.store_clock().now();
  if (!st.transact([&](store::transaction& tx) { return tx.insert_api_key(k); })) std::abort();
  return made.key;
}

// A small web UI, so that paths outside the API reach the static route (api/ui_route.h).
std::shared_ptr<const api::ui_assets> fuzz_ui() {
  static const api::embedded_ui_file files[] = {
      {"index.html", "<!doctype html><div id=root></div>", "GZ", {}},
      {"assets/index-Ab12.js", "console.log(1)", {}, {}},
      {"favicon.svg", "<svg/>", {}, {}},
  };
  return std::make_shared<const api::ui_assets>(must(api::ui_assets::from_embedded(files)));
}

// The pieces `grok serve` wires, without workers (nothing runs) and without sockets.
world& the_world() {
  static world* w = [] {
    auto* made = new world;
    made->dir =
        std::filesystem::temp_directory_path() / ("grok-http-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(made->dir);
    config c;
    c.data_dir = made->dir.string();
    c.llm_base_url = "http://127.0.0.1:9/v1";  // never called: no workers run
    made->store = must(store::open_store({.url = c.effective_db()}));
    auto& st = *made->store;
    made->tools = std::make_unique<tools::tool_registry>(c.tools.output_max_bytes);
    if (!tools::add_builtin_tools(*made->tools, c, st)) std::abort();
    made->models = std::make_unique<engine::configured_models>(
        c, [](std::string_view) -> std::optional<std::string> { return std::nullopt; });
    made->engine = must(engine::engine::create(st, *made->tools, *made->models,
                                               engine::engine_options::from_config(c)));
    made->admin_key = add_key(st, "admin");
    made->runs_key = add_key(st, "runs");
    made->limiter =
        api::make_local_rate_limiter({.per_second = 1e9, .burst = 1e9}, st.store_clock());
    made->hub = std::make_unique<api::stream_hub>(st, api::stream_limits{});
    made->service =
        std::make_unique<api::service>(api::service_deps{.store = st,
                                                         .engine = *made->engine,
                                                         .hub = *made->hub,
                                                         .limiter = *made->limiter,
                                                         .clock = st.store_clock(),
                                                         .readiness = nullptr},
                                       api::service_options{.cors_origins = {"http://ui.test"},
                                                            .signing_secret = {},
                                                            .max_body_bytes = 64 * 1024,
                                                            .ui = fuzz_ui()});
    engine::create_run_request req;
    req.input = "fuzz";
    req.options = nlohmann::json::object();
    made->run_id = must(made->engine->create_run(req)).id;
    return made;
  }();
  return *w;
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto& w = the_world();
  http::bhttp::request_parser<http::bhttp::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(64 * 1024);
  parser.eager(true);
  http::beast::error_code ec;
  const auto used = parser.put(http::net::buffer(data, size), ec);
  if (!ec && !parser.is_done() && used == size) parser.put_eof(ec);
  if (ec || !parser.is_done()) return 0;  // the transport answers these with 400/413/431

  auto req = parser.release();
  auto request = http::to_api_request(req, "127.0.0.1:1");
  for (auto& [name, value] : request.headers) {
    if (value == "Bearer A") value = "Bearer " + w.admin_key;
    if (value == "Bearer R") value = "Bearer " + w.runs_key;
  }
  replace_all(request.target, "RUNID", w.run_id);
  const auto response = w.service->handle(request);
  if (response.status < 100 || response.status > 599) std::abort();
  if (!api::find_header(response.headers, "X-Request-Id")) std::abort();
  if (response.status >= 400) {
    auto body = nlohmann::json::parse(response.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || body["status"] != response.status) {
      std::abort();
    }
  }
  if (response.stream) response.stream->on_closed();
  return 0;
}
