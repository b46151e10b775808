#include "core/config.h"

#include "core/redact.h"

namespace grok {

namespace {

std::string data_dir_or_dot(const std::string& data_dir) {
  std::string dir = data_dir.empty() ? std::string(".") : data_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

}  // namespace

std::string config::effective_db() const {
  if (!db.empty()) return db;
  return "sqlite://" + data_dir_or_dot(data_dir) + "/grok.db";
}

std::string config::effective_audit_dir() const {
  return audit.dir.empty() ? data_dir_or_dot(data_dir) + "/audit" : audit.dir;
}

std::string config::effective_backup_dir() const {
  return backup.dir.empty() ? data_dir_or_dot(data_dir) + "/backups" : backup.dir;
}

std::string redact_url_password(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const auto at = url.find('@', scheme + 3);
  if (at == std::string::npos) return url;
  const auto colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

}  // namespace grok
