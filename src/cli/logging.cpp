#include <iostream>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/commands.h"

namespace grok::cli {

void init_logging(const config& c, bool /*server*/) {
  auto logger = spdlog::stderr_logger_mt("grok");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  logger->set_level(spdlog::level::from_str(c.log_level));
  spdlog::set_default_logger(logger);
}

int report_error(const std::string& message) {
  std::cerr << "grok: error: " << message << "\n";
  return k_exit_error;
}

}  // namespace grok::cli
