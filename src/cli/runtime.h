// Everything a process needs to run agents, wired from the configuration: the store, the
// tools, the models, the engine and the worker pool. Used by `grok serve`, `grok run` and
// `grok replay`.
#pragma once

#include <memory>

#include "core/config.h"
#include "core/result.h"
#include "engine/engine.h"
#include "engine/models.h"
#include "queue/worker_pool.h"
#include "store/store.h"
#include "tools/tool.h"

namespace grok::cli {

struct runtime {
  std::unique_ptr<store::store> store;
  std::unique_ptr<tools::tool_registry> tools;
  std::unique_ptr<engine::model_hub> models;
  std::unique_ptr<engine::engine> engine;
  std::unique_ptr<queue::worker_pool> workers;  // started by the caller

  ~runtime();  // stops the workers before the engine and store go away
};

struct runtime_options {
  // PostgreSQL: follow the events other processes commit (the API does; `grok worker`
  // needs only job wake-ups).
  bool follow_events = true;
};

// `models` replaces the configured model servers when given (replay).
[[nodiscard]] result<std::unique_ptr<runtime>> make_runtime(
    const config& c, std::unique_ptr<engine::model_hub> models = nullptr,
    runtime_options options = {});

}  // namespace grok::cli
