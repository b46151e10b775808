// The store backends the conformance suite runs against. Every backend must pass every
// test in this folder; a new backend adds itself to all_store_backends().
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/clock.h"
#include "store/store.h"
#include "tests_support/temp_dir.h"

namespace grok::testing {

struct store_backend {
  std::string name;
  // Opens a fresh, empty, migrated store that keeps its files under `dir`.
  std::function<std::unique_ptr<store::store>(const temp_dir& dir, const clock& c)> open;
  // The URL of a fresh, empty, migrated database that keeps its files under `dir`: open it
  // more than once for several stores on one database (as several processes would).
  std::function<std::string(const temp_dir& dir)> fresh_url;
};

std::vector<store_backend> all_store_backends();

// The URL of a new, empty, migrated database on this test program's throwaway PostgreSQL
// cluster (started on first use, stopped at exit).
std::string fresh_postgres_database();

// Opens the store at `url` on clock `c`; a failure is reported to GoogleTest and gives null.
std::unique_ptr<store::store> open_store_or_fail(const std::string& url, const clock& c);

// A fixture with a fresh store on a manual clock for each test.
class store_conformance : public ::testing::TestWithParam<store_backend> {
 protected:
  void SetUp() override { store_ = GetParam().open(dir_, clock_); }
  store::store& st() { return *store_; }

  temp_dir dir_;
  manual_clock clock_;
  std::unique_ptr<store::store> store_;
};

inline std::string backend_name(const ::testing::TestParamInfo<store_backend>& info) {
  return info.param.name;
}

}  // namespace grok::testing
