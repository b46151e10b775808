#include "conformance/store_backends.h"

#include <atomic>
#include <mutex>

#include "store/open_store.h"
#include "tests_support/pg_server.h"

namespace grok::testing {
namespace {

std::unique_ptr<store::store> open_or_fail(const std::string& url, const clock& c) {
  auto opened = store::open_store({.url = url, .time_source = &c});
  if (!opened) {
    ADD_FAILURE() << describe(opened.error());
    return {};
  }
  return std::move(*opened);
}

}  // namespace

std::string fresh_postgres_database() {
  // One throwaway cluster per test program, started on first use and stopped at exit; a
  // migrated template database, copied for each test (much faster than migrating each).
  static std::once_flag once;
  static std::unique_ptr<pg_server> server;
  static std::atomic<int> next{0};
  std::call_once(once, [] {
    server = std::make_unique<pg_server>();
    const auto url = server->create_database("grok_template");
    auto migrated = store::migrate_store(url);
    if (!migrated) throw std::runtime_error("migrating the template: " + describe(migrated.error()));
  });
  const std::string name = "grok_test_" + std::to_string(++next);
  pg_exec(server->url(), "CREATE DATABASE " + name + " TEMPLATE grok_template");
  return server->url(name);
}

std::vector<store_backend> all_store_backends() {
  return {
      {"sqlite",
       [](const temp_dir& dir, const clock& c) {
         return open_or_fail("sqlite://" + dir.file("grok.db"), c);
       }},
      {"postgres",
       [](const temp_dir&, const clock& c) { return open_or_fail(fresh_postgres_database(), c); }},
  };
}

}  // namespace grok::testing
