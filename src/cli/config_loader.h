// Builds the server's `config` from, in increasing precedence: built-in defaults, an
// optional grok.toml, GROK_* environment variables, and command-line flags.
//
// Every error names the offending key and where it came from ("grok.toml: workers: …",
// "GROK_WORKERS: …", "--workers: …"). Secrets (API keys, signing secret) are never read
// from grok.toml itself: only from the environment or from a file named there.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/config.h"
#include "core/result.h"

namespace grok::cli {

// The process environment as an env_lookup.
env_lookup process_env();

struct config_request {
  // Explicit --config path (must exist). When empty, GROK_CONFIG is used (must exist), else
  // ./grok.toml if present.
  std::optional<std::string> config_path;
  // Flag values by setting name (e.g. "data_dir", "workers"), already given on the command line.
  std::map<std::string, std::string, std::less<>> flags;
  env_lookup env = process_env();
};

[[nodiscard]] result<config> load_config(const config_request& request);

// Parses grok.toml text onto `into`. `origin` names the file in errors.
[[nodiscard]] result<void> apply_toml(config& into, std::string_view text,
                                      const std::string& origin);

// Applies one setting given as a string (from the environment or a flag).
[[nodiscard]] result<void> apply_setting(config& into, std::string_view name,
                                         std::string_view value, const std::string& origin);

// One line per setting, secrets masked; for `grok serve` start-up logs.
[[nodiscard]] std::string describe_config(const config& c);

}  // namespace grok::cli
