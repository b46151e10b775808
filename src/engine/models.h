// Where the engine gets a model for each role (planner, solver, llm tool).
//
// configured_models builds one HTTP client per role from the configuration
// (llm/model_registry.h). Tests and benchmarks may supply any other model_hub, e.g. one
// model in the same process, or replay of a recorded run.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/config.h"
#include "core/result.h"
#include "llm/chat_model.h"
#include "llm/chat_types.h"

namespace grok::engine {

struct model_binding {
  llm::chat_model* model = nullptr;  // owned by the hub, lives as long as it
  llm::chat_request defaults;        // model name, output style, default parameters
  std::string provider;              // recorded with each call
};

class model_hub {
 public:
  virtual ~model_hub() = default;
  // role: planner | solver | llm. Thread-safe.
  [[nodiscard]] virtual result<model_binding> bind(std::string_view role) = 0;
};

class configured_models final : public model_hub {
 public:
  configured_models(config c, env_lookup env);
  ~configured_models() override;
  [[nodiscard]] result<model_binding> bind(std::string_view role) override;

 private:
  struct entry;
  config config_;
  env_lookup env_;
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<entry>, std::less<>> entries_;
};

// Every role answered by one model (tests, benchmarks, replay).
class single_model final : public model_hub {
 public:
  single_model(llm::chat_model& m, std::string provider, std::string model_name = "model")
      : model_(m), provider_(std::move(provider)), name_(std::move(model_name)) {}
  [[nodiscard]] result<model_binding> bind(std::string_view role) override;

 private:
  llm::chat_model& model_;
  std::string provider_;
  std::string name_;
};

}  // namespace grok::engine
