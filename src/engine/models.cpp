#include "engine/models.h"

#include "llm/model_registry.h"
#include "llm/openai_client.h"

namespace grok::engine {

struct configured_models::entry {
  llm::resolved_model resolved;
  std::unique_ptr<llm::openai_client> client;
};

configured_models::configured_models(config c, env_lookup env)
    : config_(std::move(c)), env_(std::move(env)) {}
configured_models::~configured_models() = default;

result<model_binding> configured_models::bind(std::string_view role) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(role);
  if (it == entries_.end()) {
    auto resolved = llm::resolve_model(config_, role, env_);
    if (!resolved) return tl::unexpected(resolved.error());
    auto e = std::make_unique<entry>();
    e->resolved = std::move(*resolved);
    auto settings = e->resolved.client;
    // The engine checks plans itself, so that it can show the model its mistake.
    settings.validate_structured_output = false;
    e->client = std::make_unique<llm::openai_client>(std::move(settings));
    it = entries_.emplace(std::string(role), std::move(e)).first;
  }
  return model_binding{it->second->client.get(), llm::request_for(it->second->resolved),
                       it->second->resolved.provider};
}

result<model_binding> single_model::bind(std::string_view) {
  llm::chat_request defaults;
  defaults.model = name_;
  return model_binding{&model_, std::move(defaults), provider_};
}

}  // namespace grok::engine
