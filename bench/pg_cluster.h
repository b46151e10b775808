// `--postgres auto` for the benches: a throwaway PostgreSQL cluster (initdb in a temporary
// directory, the server as our child on 127.0.0.1, fsync=off), the one the tests use
// (tests/tests_support/pg_server.h). It is held in a static so that it is stopped and its
// directory removed on every way out of the bench, std::exit included.
//
// GROK_BENCH_PG_AUTO is defined when bench/CMakeLists.txt could link grok_test_support
// (GROK_BUILD_TESTS=ON, the default); without it only a URL is accepted.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#ifdef GROK_BENCH_PG_AUTO
#include "tests_support/pg_server.h"
#endif

namespace grok::bench {

#ifdef GROK_BENCH_PG_AUTO
inline std::unique_ptr<testing::pg_server>& throwaway_cluster() {
  static std::unique_ptr<testing::pg_server> server;
  return server;
}
#endif

// Creates database `name` on the throwaway cluster (started on first use) and returns its
// URL. Throws std::runtime_error when the cluster cannot be started.
inline std::string throwaway_database(const std::string& name) {
#ifdef GROK_BENCH_PG_AUTO
  auto& server = throwaway_cluster();
  if (!server) server = std::make_unique<testing::pg_server>();
  return server->create_database(name);
#else
  (void)name;
  throw std::runtime_error(
      "--postgres auto needs tests/tests_support (configure with GROK_BUILD_TESTS=ON); "
      "pass a postgres:// URL instead");
#endif
}

// Stops the throwaway cluster, if one was started.
inline void stop_throwaway_cluster() {
#ifdef GROK_BENCH_PG_AUTO
  throwaway_cluster().reset();
#endif
}

}  // namespace grok::bench
