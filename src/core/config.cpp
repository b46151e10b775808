#include "core/config.h"

namespace grok {

std::string config::effective_db() const {
  if (!db.empty()) return db;
  std::string dir = data_dir.empty() ? std::string(".") : data_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return "sqlite://" + dir + "/grok.db";
}

}  // namespace grok
