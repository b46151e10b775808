// Reading the Prometheus text format in tests: sample values by series, and what
// `promtool check metrics` (Debian's prometheus package, installed by
// scripts/bootstrap.sh) says about a whole exposition.
#pragma once

#include <map>
#include <string>

namespace grok::testing {

// Every sample line of `text`, keyed by its series exactly as written ("name{a=\"b\"}" or
// "name"), with its value. Comment and blank lines are skipped.
using samples = std::map<std::string, double>;
samples parse_samples(const std::string& text);

// The value of `series` in `s`, 0 when absent (a counter that has not moved yet).
double sample_or_zero(const samples& s, const std::string& series);

constexpr const char* k_promtool = "/usr/bin/promtool";

struct promtool_verdict {
  int exit_code = -1;
  std::string output;  // stdout and stderr: the problems it found, if any
};

// Runs `promtool check metrics` with `text` on its standard input.
promtool_verdict promtool_check(const std::string& text);

}  // namespace grok::testing
