#include "cli/runtime.h"

#include "cli/config_loader.h"
#include "store/open_store.h"
#include "tools/builtin.h"

namespace grok::cli {

runtime::~runtime() {
  if (workers) workers->stop();
}

result<std::unique_ptr<runtime>> make_runtime(const config& c,
                                              std::unique_ptr<engine::model_hub> models,
                                              runtime_options options) {
  auto rt = std::make_unique<runtime>();
  auto opened =
      store::open_store({.url = c.effective_db(), .follow_events = options.follow_events});
  if (!opened) return tl::unexpected(opened.error());
  rt->store = std::move(*opened);
  rt->tools = std::make_unique<tools::tool_registry>(c.tools.output_max_bytes);
  if (auto r = tools::add_builtin_tools(*rt->tools, c, *rt->store); !r) {
    return tl::unexpected(r.error());
  }
  rt->models =
      models ? std::move(models) : std::make_unique<engine::configured_models>(c, process_env());
  auto eng = engine::engine::create(*rt->store, *rt->tools, *rt->models,
                                    engine::engine_options::from_config(c));
  if (!eng) return tl::unexpected(eng.error());
  rt->engine = std::move(*eng);
  rt->workers =
      std::make_unique<queue::worker_pool>(*rt->store, queue::worker_pool_options::from_config(c));
  rt->engine->register_handlers(*rt->workers);
  return rt;
}

}  // namespace grok::cli
