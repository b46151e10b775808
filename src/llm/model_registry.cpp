#include "llm/model_registry.h"

namespace grok::llm {

result<resolved_model> resolve_model(const config& c, std::string_view role,
                                     const env_lookup& env) {
  if (role != "planner" && role != "solver" && role != "llm") {
    return fail(errc::invalid_argument, "unknown model role '" + std::string(role) + "'");
  }
  model_role_config settings;
  if (auto it = c.llm.models.find(role); it != c.llm.models.end()) settings = it->second;

  resolved_model out;
  out.role = std::string(role);
  out.provider = settings.provider;
  out.model = settings.model.value_or(role == "planner" ? c.planner_model : c.solver_model);
  out.client.base_url = settings.base_url.value_or(c.llm_base_url);
  out.client.api_key = c.llm_api_key;
  if (settings.api_key_env) {
    auto key = env(*settings.api_key_env);
    if (!key || key->empty()) {
      return fail(errc::invalid_argument, "models." + out.role + ".api_key_env names " +
                                              *settings.api_key_env +
                                              ", which is not set in the environment");
    }
    out.client.api_key = *key;
  }
  out.client.timeouts = {c.llm.connect_timeout, c.llm.first_byte_timeout, c.llm.idle_timeout,
                         c.llm.total_timeout};
  out.client.retry.max_attempts = c.llm.max_attempts;
  out.output_style = settings.provider == "ollama" ? structured_output_style::ollama_format
                                                   : structured_output_style::response_format;
  out.temperature = settings.temperature;
  out.max_tokens = settings.max_tokens;
  return out;
}

chat_request request_for(const resolved_model& m) {
  chat_request r;
  r.model = m.model;
  r.output_style = m.output_style;
  r.temperature = m.temperature;
  r.max_tokens = m.max_tokens;
  return r;
}

}  // namespace grok::llm
