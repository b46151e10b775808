// The model-server check behind /readyz: GET <base_url>/models with a short timeout,
// remembered for a few seconds so that a busy /readyz does not hammer the model server.
// Thread-safety: check() may be called from any thread.
#pragma once

#include <chrono>
#include <mutex>
#include <string>

#include "api/service.h"

namespace grok::cli {

class model_probe {
 public:
  explicit model_probe(std::string base_url,
                       std::chrono::milliseconds timeout = std::chrono::milliseconds(1000),
                       std::chrono::milliseconds cache_for = std::chrono::milliseconds(5000));
  // {"name": "model_server", "ok", "detail"}: detail says what to start or set when down.
  [[nodiscard]] api::readiness_check check();

 private:
  std::string base_url_;
  std::chrono::milliseconds timeout_;
  std::chrono::milliseconds cache_for_;
  std::mutex mutex_;
  api::readiness_check last_;                           // guarded by mutex_
  std::chrono::steady_clock::time_point checked_at_{};  // guarded by mutex_
  bool checked_ = false;                                // guarded by mutex_
};

}  // namespace grok::cli
