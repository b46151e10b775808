#include "tests_support/prometheus_text.h"

#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "tests_support/process.h"
#include "tests_support/temp_dir.h"

namespace grok::testing {

samples parse_samples(const std::string& text) {
  samples out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line.front() == '#') continue;
    // The value follows the last space (label values may hold spaces, values never do).
    const auto space = line.rfind(' ');
    if (space == std::string::npos) throw std::runtime_error("not a sample line: " + line);
    const auto value = line.substr(space + 1);
    double v = 0;
    if (value == "+Inf") {
      v = std::numeric_limits<double>::infinity();
    } else if (value == "-Inf") {
      v = -std::numeric_limits<double>::infinity();
    } else {
      v = std::stod(value);  // NaN parses too
    }
    out[line.substr(0, space)] = v;
  }
  return out;
}

double sample_or_zero(const samples& s, const std::string& series) {
  auto it = s.find(series);
  return it == s.end() ? 0 : it->second;
}

promtool_verdict promtool_check(const std::string& text) {
  temp_dir dir;
  const auto path = dir.file("metrics.txt");
  {
    std::ofstream out(path, std::ios::binary);
    out << text;
  }
  const auto r = run_program(
      {"/bin/sh", "-c", std::string(k_promtool) + " check metrics < '" + path + "' 2>&1"});
  return {r.exit_code, r.out + r.err};
}

}  // namespace grok::testing
