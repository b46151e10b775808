#include "cli/config_loader.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <vector>

#include <toml++/toml.h>

#include "core/redact.h"

namespace grok::cli {
namespace {

constexpr std::size_t k_max_secret_file_bytes = std::size_t{64} * 1024;
constexpr std::size_t k_max_config_file_bytes = std::size_t{1024} * 1024;

enum class kind { text, integer, millis_value, secret_file, log_level, list, boolean };

// One configurable setting: its name in grok.toml (with its table, "queue.lease_ms"), its
// environment variable, and where it lands in `config`.
struct setting {
  std::string_view name;
  std::string_view env;
  kind type;
  std::int64_t min = 0;
  std::int64_t max = 0;
  std::function<void(config&, std::string)> set_text = nullptr;
  std::function<void(config&, std::int64_t)> set_int = nullptr;
};

// "a, b,c" → {"a", "b", "c"}; empty items are dropped.
std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    auto item = text.substr(start, end - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) items.emplace_back(item);
    start = end + 1;
  }
  return items;
}

const std::vector<setting>& settings() {
  static const std::vector<setting> list = {
      {"data_dir", "GROK_DATA_DIR", kind::text, 0, 0,
       [](config& c, std::string v) { c.data_dir = std::move(v); }},
      {"db", "GROK_DB", kind::text, 0, 0, [](config& c, std::string v) { c.db = std::move(v); }},
      {"listen", "GROK_LISTEN", kind::text, 0, 0,
       [](config& c, std::string v) { c.listen = std::move(v); }},
      {"log_level", "GROK_LOG_LEVEL", kind::log_level, 0, 0,
       [](config& c, std::string v) { c.log_level = std::move(v); }},
      {"workers", "GROK_WORKERS", kind::integer, 0, 256, nullptr,
       [](config& c, std::int64_t v) { c.workers = static_cast<int>(v); }},
      {"llm_base_url", "GROK_LLM_BASE_URL", kind::text, 0, 0,
       [](config& c, std::string v) { c.llm_base_url = std::move(v); }},
      {"llm_api_key_file", "GROK_LLM_API_KEY_FILE", kind::secret_file, 0, 0,
       [](config& c, std::string v) { c.llm_api_key = std::move(v); }},
      {"planner_model", "GROK_PLANNER_MODEL", kind::text, 0, 0,
       [](config& c, std::string v) { c.planner_model = std::move(v); }},
      {"solver_model", "GROK_SOLVER_MODEL", kind::text, 0, 0,
       [](config& c, std::string v) { c.solver_model = std::move(v); }},
      {"redis_url", "GROK_REDIS_URL", kind::text, 0, 0,
       [](config& c, std::string v) { c.redis_url = std::move(v); }},
      {"otlp_endpoint", "GROK_OTLP_ENDPOINT", kind::text, 0, 0,
       [](config& c, std::string v) { c.otlp_endpoint = std::move(v); }},
      {"signing_secret_file", "GROK_SIGNING_SECRET_FILE", kind::secret_file, 0, 0,
       [](config& c, std::string v) { c.signing_secret = std::move(v); }},
      {"engine.max_steps", "GROK_ENGINE_MAX_STEPS", kind::integer, 1, 64, nullptr,
       [](config& c, std::int64_t v) { c.engine.max_steps = static_cast<int>(v); }},
      {"engine.max_replans", "GROK_ENGINE_MAX_REPLANS", kind::integer, 0, 10, nullptr,
       [](config& c, std::int64_t v) { c.engine.max_replans = static_cast<int>(v); }},
      {"engine.token_budget", "GROK_ENGINE_TOKEN_BUDGET", kind::integer, 0, 1'000'000'000, nullptr,
       [](config& c, std::int64_t v) { c.engine.token_budget = v; }},
      {"engine.step_timeout_ms", "GROK_ENGINE_STEP_TIMEOUT_MS", kind::millis_value, 10, 86'400'000,
       nullptr, [](config& c, std::int64_t v) { c.engine.step_timeout = millis(v); }},
      {"engine.deadline_ms", "GROK_ENGINE_DEADLINE_MS", kind::millis_value, 100, 7 * 86'400'000LL,
       nullptr, [](config& c, std::int64_t v) { c.engine.deadline = millis(v); }},
      {"engine.prompts_dir", "GROK_ENGINE_PROMPTS_DIR", kind::text, 0, 0,
       [](config& c, std::string v) { c.engine.prompts_dir = std::move(v); }},
      {"tools.http_allow", "GROK_TOOLS_HTTP_ALLOW", kind::list, 0, 0,
       [](config& c, std::string v) { c.tools.http_allow = split_list(v); }},
      {"tools.http_max_bytes", "GROK_TOOLS_HTTP_MAX_BYTES", kind::integer, 1024, 256LL << 20,
       nullptr, [](config& c, std::int64_t v) { c.tools.http_max_bytes = v; }},
      {"tools.http_timeout_ms", "GROK_TOOLS_HTTP_TIMEOUT_MS", kind::millis_value, 100, 600'000,
       nullptr, [](config& c, std::int64_t v) { c.tools.http_timeout = millis(v); }},
      {"tools.http_max_redirects", "GROK_TOOLS_HTTP_MAX_REDIRECTS", kind::integer, 0, 20, nullptr,
       [](config& c, std::int64_t v) { c.tools.http_max_redirects = static_cast<int>(v); }},
      {"http.max_body_bytes", "GROK_HTTP_MAX_BODY_BYTES", kind::integer, 1024, 256LL << 20, nullptr,
       [](config& c, std::int64_t v) { c.http.max_body_bytes = static_cast<std::size_t>(v); }},
      {"http.max_header_bytes", "GROK_HTTP_MAX_HEADER_BYTES", kind::integer, 1024, 1LL << 20,
       nullptr,
       [](config& c, std::int64_t v) { c.http.max_header_bytes = static_cast<std::size_t>(v); }},
      {"http.header_timeout_ms", "GROK_HTTP_HEADER_TIMEOUT_MS", kind::millis_value, 50, 600'000,
       nullptr, [](config& c, std::int64_t v) { c.http.header_timeout = millis(v); }},
      {"http.idle_timeout_ms", "GROK_HTTP_IDLE_TIMEOUT_MS", kind::millis_value, 50, 86'400'000,
       nullptr, [](config& c, std::int64_t v) { c.http.idle_timeout = millis(v); }},
      {"http.max_connections", "GROK_HTTP_MAX_CONNECTIONS", kind::integer, 1, 1'000'000, nullptr,
       [](config& c, std::int64_t v) { c.http.max_connections = static_cast<int>(v); }},
      {"http.io_threads", "GROK_HTTP_IO_THREADS", kind::integer, 0, 256, nullptr,
       [](config& c, std::int64_t v) { c.http.io_threads = static_cast<int>(v); }},
      {"http.heartbeat_ms", "GROK_HTTP_HEARTBEAT_MS", kind::millis_value, 50, 3'600'000, nullptr,
       [](config& c, std::int64_t v) { c.http.heartbeat = millis(v); }},
      {"http.drain_timeout_ms", "GROK_HTTP_DRAIN_TIMEOUT_MS", kind::millis_value, 0, 600'000,
       nullptr, [](config& c, std::int64_t v) { c.http.drain_timeout = millis(v); }},
      {"http.stream_buffer_bytes", "GROK_HTTP_STREAM_BUFFER_BYTES", kind::integer, 4096, 1LL << 30,
       nullptr,
       [](config& c, std::int64_t v) { c.http.stream_buffer_bytes = static_cast<std::size_t>(v); }},
      {"http.ws_max_message_bytes", "GROK_HTTP_WS_MAX_MESSAGE_BYTES", kind::integer, 256,
       16LL << 20, nullptr,
       [](config& c,
          std::int64_t v) { c.http.ws_max_message_bytes = static_cast<std::size_t>(v); }},
      {"http.cors_origins", "GROK_HTTP_CORS_ORIGINS", kind::list, 0, 0,
       [](config& c, std::string v) { c.http.cors_origins = split_list(v); }},
      {"http.rate_per_second", "GROK_HTTP_RATE_PER_SECOND", kind::integer, 1, 1'000'000, nullptr,
       [](config& c, std::int64_t v) { c.http.rate_per_second = static_cast<double>(v); }},
      {"http.rate_burst", "GROK_HTTP_RATE_BURST", kind::integer, 1, 10'000'000, nullptr,
       [](config& c, std::int64_t v) { c.http.rate_burst = static_cast<double>(v); }},
      {"log_format", "GROK_LOG_FORMAT", kind::text, 0, 0,
       [](config& c, std::string v) { c.log_format = std::move(v); }},
      {"tracing.service_name", "GROK_TRACING_SERVICE_NAME", kind::text, 0, 0,
       [](config& c, std::string v) { c.tracing.service_name = std::move(v); }},
      {"tracing.max_queue_spans", "GROK_TRACING_MAX_QUEUE_SPANS", kind::integer, 16, 1'000'000,
       nullptr,
       [](config& c, std::int64_t v) { c.tracing.max_queue_spans = static_cast<std::size_t>(v); }},
      {"tracing.max_batch_spans", "GROK_TRACING_MAX_BATCH_SPANS", kind::integer, 1, 100'000,
       nullptr,
       [](config& c, std::int64_t v) { c.tracing.max_batch_spans = static_cast<std::size_t>(v); }},
      {"tracing.flush_interval_ms", "GROK_TRACING_FLUSH_INTERVAL_MS", kind::millis_value, 10,
       600'000, nullptr, [](config& c, std::int64_t v) { c.tracing.flush_interval = millis(v); }},
      {"tracing.export_timeout_ms", "GROK_TRACING_EXPORT_TIMEOUT_MS", kind::millis_value, 100,
       600'000, nullptr, [](config& c, std::int64_t v) { c.tracing.export_timeout = millis(v); }},
      {"audit.dir", "GROK_AUDIT_DIR", kind::text, 0, 0,
       [](config& c, std::string v) { c.audit.dir = std::move(v); }},
      {"audit.max_file_bytes", "GROK_AUDIT_MAX_FILE_BYTES", kind::integer, 1024, 1LL << 40, nullptr,
       [](config& c, std::int64_t v) { c.audit.max_file_bytes = v; }},
      {"audit.keep_files", "GROK_AUDIT_KEEP_FILES", kind::integer, 1, 100'000, nullptr,
       [](config& c, std::int64_t v) { c.audit.keep_files = static_cast<int>(v); }},
      {"audit.allow_fields", "GROK_AUDIT_ALLOW_FIELDS", kind::list, 0, 0,
       [](config& c, std::string v) { c.audit.allow_fields = split_list(v); }},
      {"audit.secret_file", "GROK_AUDIT_SECRET_FILE", kind::secret_file, 0, 0,
       [](config& c, std::string v) { c.audit.secret = std::move(v); }},
      {"retention.max_age_hours", "GROK_RETENTION_MAX_AGE_HOURS", kind::integer, 0,
       100LL * 365 * 24, nullptr,
       [](config& c, std::int64_t v) { c.retention.max_age = std::chrono::hours(v); }},
      {"retention.interval_s", "GROK_RETENTION_INTERVAL_S", kind::integer, 0, 365LL * 86'400,
       nullptr, [](config& c, std::int64_t v) { c.retention.interval = std::chrono::seconds(v); }},
      {"retention.batch_size", "GROK_RETENTION_BATCH_SIZE", kind::integer, 1, 100'000, nullptr,
       [](config& c, std::int64_t v) { c.retention.batch_size = static_cast<int>(v); }},
      {"backup.dir", "GROK_BACKUP_DIR", kind::text, 0, 0,
       [](config& c, std::string v) { c.backup.dir = std::move(v); }},
      {"backup.interval_s", "GROK_BACKUP_INTERVAL_S", kind::integer, 0, 365LL * 86'400, nullptr,
       [](config& c, std::int64_t v) { c.backup.interval = std::chrono::seconds(v); }},
      {"backup.keep", "GROK_BACKUP_KEEP", kind::integer, 1, 10'000, nullptr,
       [](config& c, std::int64_t v) { c.backup.keep = static_cast<int>(v); }},
      {"tools.output_max_bytes", "GROK_TOOLS_OUTPUT_MAX_BYTES", kind::integer, 256, 16LL << 20,
       nullptr, [](config& c, std::int64_t v) { c.tools.output_max_bytes = v; }},
      {"queue.lease_ms", "GROK_QUEUE_LEASE_MS", kind::millis_value, 100, 86'400'000, nullptr,
       [](config& c, std::int64_t v) { c.queue.lease = millis(v); }},
      {"queue.max_attempts", "GROK_QUEUE_MAX_ATTEMPTS", kind::integer, 1, 1000, nullptr,
       [](config& c, std::int64_t v) { c.queue.max_attempts = static_cast<int>(v); }},
      {"queue.backoff_base_ms", "GROK_QUEUE_BACKOFF_BASE_MS", kind::millis_value, 0, 86'400'000,
       nullptr, [](config& c, std::int64_t v) { c.queue.backoff_base = millis(v); }},
      {"queue.backoff_cap_ms", "GROK_QUEUE_BACKOFF_CAP_MS", kind::millis_value, 0, 86'400'000,
       nullptr, [](config& c, std::int64_t v) { c.queue.backoff_cap = millis(v); }},
      {"queue.idle_recheck_ms", "GROK_QUEUE_IDLE_RECHECK_MS", kind::millis_value, 10, 3'600'000,
       nullptr, [](config& c, std::int64_t v) { c.queue.idle_recheck = millis(v); }},
      {"llm.connect_timeout_ms", "GROK_LLM_CONNECT_TIMEOUT_MS", kind::millis_value, 100, 600'000,
       nullptr, [](config& c, std::int64_t v) { c.llm.connect_timeout = millis(v); }},
      {"llm.first_byte_timeout_ms", "GROK_LLM_FIRST_BYTE_TIMEOUT_MS", kind::millis_value, 100,
       3'600'000, nullptr, [](config& c, std::int64_t v) { c.llm.first_byte_timeout = millis(v); }},
      {"llm.idle_timeout_ms", "GROK_LLM_IDLE_TIMEOUT_MS", kind::millis_value, 100, 3'600'000,
       nullptr, [](config& c, std::int64_t v) { c.llm.idle_timeout = millis(v); }},
      {"llm.total_timeout_ms", "GROK_LLM_TOTAL_TIMEOUT_MS", kind::millis_value, 1000, 86'400'000,
       nullptr, [](config& c, std::int64_t v) { c.llm.total_timeout = millis(v); }},
      {"llm.max_attempts", "GROK_LLM_MAX_ATTEMPTS", kind::integer, 1, 20, nullptr,
       [](config& c, std::int64_t v) { c.llm.max_attempts = static_cast<int>(v); }},
      {"ui.enabled", "GROK_UI", kind::boolean, 0, 0,
       [](config& c, const std::string& v) { c.ui.enabled = std::string_view(v) == "true"; }},
      {"ui.dir", "GROK_UI_DIR", kind::text, 0, 0,
       [](config& c, std::string v) { c.ui.dir = std::move(v); }},
  };
  return list;
}

// Secrets given directly: allowed from the environment only.
struct direct_secret {
  std::string_view env;
  std::string_view toml_name;
  std::string_view file_setting;
  std::function<void(config&, std::string)> set;
};

const std::vector<direct_secret>& direct_secrets() {
  static const std::vector<direct_secret> list = {
      {"GROK_LLM_API_KEY", "llm_api_key", "llm_api_key_file",
       [](config& c, std::string v) { c.llm_api_key = std::move(v); }},
      {"GROK_SIGNING_SECRET", "signing_secret", "signing_secret_file",
       [](config& c, std::string v) { c.signing_secret = std::move(v); }},
      {"GROK_AUDIT_SECRET", "audit.secret", "audit.secret_file",
       [](config& c, std::string v) { c.audit.secret = std::move(v); }},
  };
  return list;
}

const setting* find_setting(std::string_view name) {
  for (const auto& s : settings()) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

tl::unexpected<error> bad(const std::string& origin, std::string_view name,
                          const std::string& why) {
  return fail(errc::invalid_argument, origin + ": " + std::string(name) + ": " + why);
}

result<std::string> read_secret_file(const std::string& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) return fail(errc::not_found, "cannot read " + path + ": " + ec.message());
  if (size > k_max_secret_file_bytes)
    return fail(errc::invalid_argument, path + " is larger than 64 KiB");
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
    text.pop_back();
  if (text.empty()) return fail(errc::invalid_argument, path + " is empty");
  return text;
}

result<void> set_text(config& into, const setting& s, std::string value,
                      const std::string& origin) {
  if (s.type == kind::log_level) {
    static const std::vector<std::string_view> levels = {"trace", "debug",    "info", "warn",
                                                         "error", "critical", "off"};
    if (std::find(levels.begin(), levels.end(), value) == levels.end()) {
      return bad(
          origin, s.name,
          "'" + value + "' is not a log level (trace, debug, info, warn, error, critical, off)");
    }
  }
  if (s.type == kind::boolean) {
    if (value == "true" || value == "on" || value == "1" || value == "yes") {
      value = "true";
    } else if (value == "false" || value == "off" || value == "0" || value == "no") {
      value = "false";
    } else {
      return bad(origin, s.name, "'" + value + "' is not on or off (true/false, 1/0, yes/no)");
    }
  }
  if (s.type == kind::secret_file) {
    auto secret = read_secret_file(value);
    if (!secret) return bad(origin, s.name, secret.error().message);
    value = std::move(*secret);
  }
  if (value.empty() && s.name != "db" && s.type != kind::list && s.name != "engine.prompts_dir" &&
      s.name != "ui.dir")
    return bad(origin, s.name, "must not be empty");
  s.set_text(into, std::move(value));
  return {};
}

result<void> set_int(config& into, const setting& s, std::int64_t value,
                     const std::string& origin) {
  if (value < s.min || value > s.max) {
    return bad(origin, s.name,
               std::to_string(value) + " is out of range (" + std::to_string(s.min) + " to " +
                   std::to_string(s.max) + ")");
  }
  s.set_int(into, value);
  return {};
}

result<void> validate(const config& c) {
  if (c.workers < 0) return fail(errc::invalid_argument, "workers must not be negative");
  if (c.queue.backoff_cap < c.queue.backoff_base) {
    return fail(errc::invalid_argument,
                "queue.backoff_cap_ms must be at least queue.backoff_base_ms");
  }
  if (!c.log_format.empty() && c.log_format != "json" && c.log_format != "text") {
    return fail(errc::invalid_argument, "log_format: '" + c.log_format + "' is not json or text");
  }
  auto colon = c.listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == c.listen.size()) {
    return fail(errc::invalid_argument, "listen: '" + c.listen + "' is not HOST:PORT");
  }
  int port = 0;
  auto port_text = std::string_view(c.listen).substr(colon + 1);
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || ptr != port_text.data() + port_text.size() || port < 0 || port > 65535) {
    return fail(errc::invalid_argument,
                "listen: '" + c.listen + "' has no valid port (0 to 65535)");
  }
  return {};
}

bool is_env_name(std::string_view s) {
  if (s.empty() || s.size() > 128 || std::isdigit(static_cast<unsigned char>(s[0])) != 0)
    return false;
  return std::all_of(s.begin(), s.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '_';
  });
}

// [models.planner], [models.solver], [models.llm]: per-role model settings.
result<void> apply_models(config& into, const toml::node& node, const std::string& origin) {
  const auto* models = node.as_table();
  auto where = [&](const toml::node& n) {
    return origin + " line " + std::to_string(n.source().begin.line);
  };
  if (models == nullptr) return bad(where(node), "models", "expected a table of roles");
  for (const auto& [role_key, role_node] : *models) {
    const std::string role(role_key.str());
    const std::string base = "models." + role;
    if (role != "planner" && role != "solver" && role != "llm") {
      return bad(where(role_node), base, "unknown role (planner, solver or llm)");
    }
    const auto* fields = role_node.as_table();
    if (fields == nullptr) return bad(where(role_node), base, "expected a table");
    auto& m = into.llm.models[role];
    for (const auto& entry : *fields) {
      // Named references, not a structured binding: clang 14 cannot capture those.
      const auto& field_key = entry.first;
      const toml::node& value = entry.second;
      const std::string field(field_key.str());
      const std::string name = base + "." + field;
      const auto at = where(value);
      auto text = [&]() -> result<std::string> {
        if (!value.is_string() || value.value<std::string>()->empty()) {
          return bad(at, name, "expected a non-empty string");
        }
        return *value.value<std::string>();
      };
      if (field == "base_url" || field == "model" || field == "provider" ||
          field == "api_key_env") {
        auto v = text();
        if (!v) return tl::unexpected(v.error());
        if (field == "base_url") m.base_url = *v;
        if (field == "model") m.model = *v;
        if (field == "provider") {
          static const std::vector<std::string_view> providers = {"openai", "ollama", "vllm",
                                                                  "llamacpp", "lmstudio"};
          if (std::find(providers.begin(), providers.end(), *v) == providers.end()) {
            return bad(at, name,
                       "'" + *v + "' is not a provider (openai, ollama, vllm, llamacpp, lmstudio)");
          }
          m.provider = *v;
        }
        if (field == "api_key_env") {
          if (!is_env_name(*v))
            return bad(at, name, "expected the name of an environment variable");
          m.api_key_env = *v;
        }
      } else if (field == "temperature") {
        auto v = value.value<double>();
        if (!(value.is_floating_point() || value.is_integer()) || !v || *v < 0 || *v > 2) {
          return bad(at, name, "expected a number from 0 to 2");
        }
        m.temperature = *v;
      } else if (field == "max_tokens") {
        auto v = value.value<std::int64_t>();
        if (!value.is_integer() || !v || *v < 1 || *v > 1'000'000) {
          return bad(at, name, "expected an integer from 1 to 1000000");
        }
        m.max_tokens = static_cast<int>(*v);
      } else if (field == "api_key") {
        return bad(at, name,
                   "secrets are not read from the config file; use api_key_env (the name of an "
                   "environment variable holding the key)");
      } else {
        return bad(at, name, "unknown setting");
      }
    }
  }
  return {};
}

// [prices."MODEL"] input_per_mtok / output_per_mtok: what a model's tokens cost.
result<void> apply_prices(config& into, const toml::node& node, const std::string& origin) {
  const auto* models = node.as_table();
  auto where = [&](const toml::node& n) {
    return origin + " line " + std::to_string(n.source().begin.line);
  };
  if (models == nullptr) return bad(where(node), "prices", "expected a table of models");
  for (const auto& [model_key, model_node] : *models) {
    const std::string base = "prices." + std::string(model_key.str());
    const auto* fields = model_node.as_table();
    if (fields == nullptr) return bad(where(model_node), base, "expected a table");
    model_price price;
    for (const auto& [field_key, value] : *fields) {
      const std::string field(field_key.str());
      auto v = value.value<double>();
      if (!(value.is_floating_point() || value.is_integer()) || !v || *v < 0 || *v > 1e6) {
        return bad(where(value), base + "." + field, "expected a number from 0 to 1000000");
      }
      if (field == "input_per_mtok") {
        price.input_per_mtok = *v;
      } else if (field == "output_per_mtok") {
        price.output_per_mtok = *v;
      } else {
        return bad(where(value), base + "." + field,
                   "unknown setting (input_per_mtok, output_per_mtok)");
      }
    }
    into.prices[std::string(model_key.str())] = price;
  }
  return {};
}

result<void> apply_table(config& into, const toml::table& table, const std::string& prefix,
                         const std::string& origin) {
  for (const auto& [key, node] : table) {
    std::string name = prefix + std::string(key.str());
    const auto line = node.source().begin.line;
    const std::string where = origin + " line " + std::to_string(line);
    if (const auto* sub = node.as_table();
        sub != nullptr && prefix.empty() &&
        (name == "queue" || name == "llm" || name == "engine" || name == "tools" ||
         name == "http" || name == "tracing" || name == "audit" || name == "retention" ||
         name == "backup" || name == "ui")) {
      if (auto r = apply_table(into, *sub, name + ".", origin); !r) return r;
      continue;
    }
    if (prefix.empty() && name == "prices") {
      if (auto r = apply_prices(into, node, origin); !r) return r;
      continue;
    }
    if (prefix.empty() && name == "models") {
      if (auto r = apply_models(into, node, origin); !r) return r;
      continue;
    }
    for (const auto& d : direct_secrets()) {
      if (d.toml_name == name) {
        return bad(where, name,
                   "secrets are not read from the config file; set " + std::string(d.env) + " or " +
                       std::string(d.file_setting) + " (a path to a file holding it)");
      }
    }
    const auto* s = find_setting(name);
    if (s == nullptr) return bad(where, name, "unknown setting");
    if (s->type == kind::integer || s->type == kind::millis_value) {
      auto v = node.value<std::int64_t>();
      if (!node.is_integer() || !v) return bad(where, name, "expected an integer");
      if (auto r = set_int(into, *s, *v, where); !r) return r;
    } else if (s->type == kind::boolean) {
      if (!node.is_boolean()) return bad(where, name, "expected true or false");
      if (auto r = set_text(into, *s, *node.value<bool>() ? "true" : "false", where); !r) return r;
    } else if (s->type == kind::list) {
      const auto* items = node.as_array();
      if (items == nullptr) return bad(where, name, "expected an array of strings");
      std::string joined;
      for (const auto& item : *items) {
        if (!item.is_string()) return bad(where, name, "expected an array of strings");
        auto text = *item.value<std::string>();
        if (text.find(',') != std::string::npos) return bad(where, name, "an entry has a comma");
        joined += text + ",";
      }
      if (auto r = set_text(into, *s, joined, where); !r) return r;
    } else {
      if (!node.is_string()) return bad(where, name, "expected a string");
      if (auto r = set_text(into, *s, std::string(*node.value<std::string>()), where); !r) return r;
    }
  }
  return {};
}

}  // namespace

env_lookup process_env() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

result<void> apply_toml(config& into, std::string_view text, const std::string& origin) {
  // toml++ as packaged is built with exceptions; its parse_error is converted here, at the
  // call, into an error value naming the file and line.
  toml::table table;
  try {
    table = toml::parse(text, origin);
  } catch (const toml::parse_error& err) {
    return fail(errc::invalid_argument, origin + " line " +
                                            std::to_string(err.source().begin.line) + ": " +
                                            std::string(err.description()));
  }
  return apply_table(into, table, "", origin);
}

result<void> apply_setting(config& into, std::string_view name, std::string_view value,
                           const std::string& origin) {
  const auto* s = find_setting(name);
  if (s == nullptr) return bad(origin, name, "unknown setting");
  if (s->type == kind::integer || s->type == kind::millis_value) {
    std::int64_t v = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (value.empty() || ec != std::errc{} || ptr != value.data() + value.size()) {
      return bad(origin, name, "'" + std::string(value) + "' is not an integer");
    }
    return set_int(into, *s, v, origin);
  }
  return set_text(into, *s, std::string(value), origin);
}

result<config> load_config(const config_request& request) {
  config c;

  std::optional<std::string> path = request.config_path;
  bool required = path.has_value();
  if (!path) {
    if (auto from_env = request.env("GROK_CONFIG")) {
      path = *from_env;
      required = true;
    } else if (std::filesystem::exists("grok.toml")) {
      path = "grok.toml";
    }
  }
  if (path) {
    std::error_code ec;
    auto size = std::filesystem::file_size(*path, ec);
    if (ec) {
      if (required || std::filesystem::exists(*path)) {
        return fail(errc::not_found, "config file " + *path + ": " + ec.message());
      }
    } else if (size > k_max_config_file_bytes) {
      return fail(errc::invalid_argument, "config file " + *path + " is larger than 1 MiB");
    } else {
      std::ifstream in(*path, std::ios::binary);
      std::stringstream buffer;
      buffer << in.rdbuf();
      if (auto r = apply_toml(c, buffer.str(), *path); !r) return tl::unexpected(r.error());
    }
  }

  for (const auto& s : settings()) {
    if (auto v = request.env(s.env)) {
      if (auto r = apply_setting(c, s.name, *v, std::string(s.env)); !r)
        return tl::unexpected(r.error());
    }
  }
  for (const auto& d : direct_secrets()) {
    if (auto v = request.env(d.env); v && !v->empty()) d.set(c, *v);
  }
  // The standard OpenTelemetry variables, where GROK's own are not set. The traces
  // endpoint is a full URL; the generic one is a base that /v1/traces is appended to.
  if (!request.env("GROK_OTLP_ENDPOINT")) {
    if (auto v = request.env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"); v && !v->empty()) {
      c.otlp_endpoint = *v;
    } else if (auto base = request.env("OTEL_EXPORTER_OTLP_ENDPOINT"); base && !base->empty()) {
      c.otlp_endpoint = *base;
    }
  }
  if (!request.env("GROK_TRACING_SERVICE_NAME")) {
    if (auto v = request.env("OTEL_SERVICE_NAME"); v && !v->empty()) c.tracing.service_name = *v;
  }
  // The environment overrides the per-role settings of grok.toml too.
  for (auto& [role, m] : c.llm.models) {
    if (request.env("GROK_LLM_BASE_URL")) m.base_url.reset();
    if (role == "planner" && request.env("GROK_PLANNER_MODEL")) m.model.reset();
    if (role == "solver" && request.env("GROK_SOLVER_MODEL")) m.model.reset();
  }

  for (const auto& [name, value] : request.flags) {
    std::string flag = "--" + name;
    std::replace(flag.begin(), flag.end(), '_', '-');
    if (auto r = apply_setting(c, name, value, flag); !r) return tl::unexpected(r.error());
  }

  if (auto r = validate(c); !r) return tl::unexpected(r.error());
  return c;
}

std::string describe_config(const config& c) {
  auto mask = [](const std::string& s) {
    return s.empty() ? std::string("(unset)") : std::string("(set, hidden)");
  };
  std::ostringstream out;
  out << "data_dir=" << c.data_dir << " db=" << redact_url_password(c.effective_db())
      << " listen=" << c.listen << " workers=" << c.workers << " log_level=" << c.log_level
      << " llm_base_url=" << c.llm_base_url << " planner_model=" << c.planner_model
      << " solver_model=" << c.solver_model << " llm_api_key=" << mask(c.llm_api_key)
      << " signing_secret=" << mask(c.signing_secret) << " queue.lease_ms=" << c.queue.lease.count()
      << " queue.max_attempts=" << c.queue.max_attempts
      << " engine.max_steps=" << c.engine.max_steps
      << " engine.max_replans=" << c.engine.max_replans << " engine.token_budget="
      << c.engine.token_budget
      // The Redis URL may hold a password: only whether it is set.
      << " redis=" << (c.redis_url.empty() ? "(unset)" : "(set)")
      << " http.max_body_bytes=" << c.http.max_body_bytes
      << " http.max_connections=" << c.http.max_connections << " http.cors_origins="
      << c.http.cors_origins.size()
      // An OTLP endpoint may carry credentials in its query: only whether it is set.
      << " otlp=" << (c.otlp_endpoint.empty() ? "(unset)" : "(set)")
      << " audit_dir=" << c.effective_audit_dir() << " audit_secret=" << mask(c.audit.secret)
      << " retention.max_age_hours=" << c.retention.max_age.count()
      << " backup.interval_s=" << c.backup.interval.count() << " ui="
      << (!c.ui.enabled      ? std::string("off")
          : c.ui.dir.empty() ? std::string("embedded")
                             : c.ui.dir);
  return out.str();
}

}  // namespace grok::cli
