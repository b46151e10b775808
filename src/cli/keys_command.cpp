// `grok keys create|list|revoke`: the API keys of the HTTP API (SPEC §3). A new key is
// printed once, alone on stdout, so that a script can capture it; only its hash is kept.
#include <iostream>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/api_key.h"
#include "core/ids.h"
#include "store/open_store.h"

namespace grok::cli {
namespace {

std::string format_time(time_point t) { return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", t); }

std::string optional_time(const std::optional<time_point>& t) {
  return t ? format_time(*t) : std::string("-");
}

}  // namespace

result<std::string> insert_new_key(store::store& st, const std::string& scope,
                                   const std::string& name) {
  auto made = generate_api_key();
  if (!made) return tl::unexpected(made.error());
  store::api_key_record record;
  record.id = new_id("key", st.store_clock().now());
  record.name = name;
  record.scope = scope;
  record.prefix = made->prefix;
  record.hash = made->hash;
  record.created_at = st.store_clock().now();
  if (auto r = st.transact([&](store::transaction& tx) { return tx.insert_api_key(record); }); !r) {
    return tl::unexpected(r.error());
  }
  std::cerr << "created " << scope << " key " << record.id << " (" << record.prefix << "…) named '"
            << name << "'. It is shown this once: store it now.\n";
  return made->key;
}

result<std::optional<std::string>> ensure_admin_key(store::store& st) {
  auto keys = st.list_api_keys();
  if (!keys) return tl::unexpected(keys.error());
  if (!keys->empty()) return std::optional<std::string>();
  auto key = insert_new_key(st, "admin", "first-start admin key");
  if (!key) return tl::unexpected(key.error());
  return std::optional<std::string>(std::move(*key));
}

int run_keys_create(const config& c, const std::string& scope, const std::string& name) {
  if (scope != "runs" && scope != "admin") {
    return report_error("--scope must be runs or admin, not '" + scope.substr(0, 40) + "'");
  }
  if (name.empty() || name.size() > store::k_max_api_key_name_bytes) {
    return report_error("--name must be 1 to 200 bytes");
  }
  auto st = store::open_store({.url = c.effective_db()});
  if (!st) return report_error(describe(st.error()));
  auto key = insert_new_key(**st, scope, name);
  if (!key) return report_error(describe(key.error()));
  std::cout << *key << "\n" << std::flush;
  return k_exit_ok;
}

int run_keys_list(const config& c, bool json) {
  auto st =
      store::open_store({.url = c.effective_db(), .create_if_missing = false, .migrate = false});
  if (!st) return report_error(describe(st.error()));
  auto keys = (*st)->list_api_keys();
  if (!keys) return report_error(describe(keys.error()));
  if (json) {
    auto out = nlohmann::json::array();
    for (const auto& k : *keys) {
      out.push_back({{"id", k.id},
                     {"name", k.name},
                     {"scope", k.scope},
                     {"prefix", k.prefix},
                     {"created_at", format_time(k.created_at)},
                     {"last_used_at", k.last_used_at ? nlohmann::json(format_time(*k.last_used_at))
                                                     : nlohmann::json(nullptr)},
                     {"revoked_at", k.revoked_at ? nlohmann::json(format_time(*k.revoked_at))
                                                 : nlohmann::json(nullptr)}});
    }
    std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return k_exit_ok;
  }
  if (keys->empty()) {
    std::cout << "no API keys; create one with `grok keys create --scope admin --name NAME`\n";
    return k_exit_ok;
  }
  std::cout << fmt::format("{:<30} {:<6} {:<14} {:<20} {:<20} {}\n", "ID", "SCOPE", "PREFIX",
                           "CREATED", "REVOKED", "NAME");
  for (const auto& k : *keys) {
    std::cout << fmt::format("{:<30} {:<6} {:<14} {:<20} {:<20} {}\n", k.id, k.scope, k.prefix,
                             format_time(k.created_at), optional_time(k.revoked_at), k.name);
  }
  return k_exit_ok;
}

int run_keys_revoke(const config& c, const std::string& id) {
  auto st =
      store::open_store({.url = c.effective_db(), .create_if_missing = false, .migrate = false});
  if (!st) return report_error(describe(st.error()));
  if (auto r = (*st)->transact([&](store::transaction& tx) { return tx.revoke_api_key(id); }); !r) {
    return report_error(describe(r.error()));
  }
  std::cerr << "revoked " << id << "\n";
  return k_exit_ok;
}

}  // namespace grok::cli
