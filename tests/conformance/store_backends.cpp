#include "conformance/store_backends.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "store/open_store.h"
#include "tests_support/pg_server.h"

namespace grok::testing {

std::unique_ptr<store::store> open_store_or_fail(const std::string& url, const clock& c) {
  auto opened = store::open_store({.url = url, .time_source = &c});
  if (!opened) {
    ADD_FAILURE() << describe(opened.error());
    return {};
  }
  return std::move(*opened);
}

std::string fresh_postgres_database() {
  // Under ctest, one cluster serves every test program of the run (the pg_cluster fixture,
  // tests/pg_cluster.sh, names its directory in GROK_TEST_PG_CLUSTER). A program run on its
  // own starts a cluster of its own on first use, stopped at exit. Either way each test gets
  // a copy of the migrated template database (much faster than migrating each), dropped
  // when the program exits.
  struct cluster {
    std::unique_ptr<pg_server> own;
    std::string base_url;  // postgres://…:PORT
    std::vector<std::string> created;
    std::mutex mutex;
    ~cluster() {
      if (own) return;  // its data goes with it
      for (const auto& name : created) {
        try {
          pg_exec(base_url + "/postgres", "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        } catch (const std::exception&) {
          // The shared cluster is removed at the end of the run anyway.
        }
      }
    }
  };
  static cluster shared;
  static std::once_flag once;
  std::call_once(once, [] {
    const char* dir = std::getenv("GROK_TEST_PG_CLUSTER");
    if (dir != nullptr && *dir != '\0') {
      std::ifstream in(std::string(dir) + "/url");
      std::getline(in, shared.base_url);
      if (shared.base_url.empty()) {
        throw std::runtime_error(std::string("GROK_TEST_PG_CLUSTER=") + dir +
                                 " but it has no url file: did the pg_cluster_start test run?");
      }
      return;
    }
    shared.own = std::make_unique<pg_server>();
    const auto url = shared.own->create_database("grok_template");
    auto migrated = store::migrate_store(url);
    if (!migrated)
      throw std::runtime_error("migrating the template: " + describe(migrated.error()));
    shared.base_url = shared.own->url("");
    shared.base_url.pop_back();  // the trailing "/"
  });
  static std::atomic<int> next{0};
  // Unique across the test processes sharing the cluster.
  const std::string name = "grok_test_" + std::to_string(::getpid()) + "_" + std::to_string(++next);
  pg_exec(shared.base_url + "/postgres", "CREATE DATABASE " + name + " TEMPLATE grok_template");
  {
    std::lock_guard lock(shared.mutex);
    shared.created.push_back(name);
  }
  return shared.base_url + "/" + name;
}

std::vector<store_backend> all_store_backends() {
  return {
      {"sqlite",
       [](const temp_dir& dir, const clock& c) {
         return open_store_or_fail("sqlite://" + dir.file("grok.db"), c);
       },
       [](const temp_dir& dir) { return "sqlite://" + dir.file("grok.db"); }},
      {"postgres",
       [](const temp_dir&, const clock& c) {
         return open_store_or_fail(fresh_postgres_database(), c);
       },
       [](const temp_dir&) { return fresh_postgres_database(); }},
  };
}

}  // namespace grok::testing
