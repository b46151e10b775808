// The process logger: stderr, at the configured level, as JSON lines (obs/json_log.h) or
// as the plain text format for terminals.
#include <iostream>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "obs/json_log.h"

namespace grok::cli {

void init_logging(const config& c, bool server) {
  auto logger = spdlog::stderr_logger_mt("grok");
  const bool json = c.log_format == "json" || (c.log_format.empty() && server);
  if (json) {
    logger->set_formatter(std::make_unique<obs::json_formatter>());
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  }
  logger->set_level(spdlog::level::from_str(c.log_level));
  spdlog::set_default_logger(logger);
}

int report_error(const std::string& message) {
  std::cerr << "grok: error: " << message << "\n";
  return k_exit_error;
}

}  // namespace grok::cli
