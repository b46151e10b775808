// Resolves a model role (planner, solver, llm) to what a call needs: the server, the model
// name, the API key (read from the environment variable the configuration names), the
// structured-output style of the provider and the role's default parameters.
//
// Precedence for each field: [models.<role>] in grok.toml, else the top-level settings
// (llm_base_url, planner_model / solver_model, GROK_LLM_API_KEY); GROK_LLM_BASE_URL,
// GROK_PLANNER_MODEL and GROK_SOLVER_MODEL override both (applied by the config loader).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/config.h"
#include "core/result.h"
#include "llm/chat_types.h"
#include "llm/openai_client.h"

namespace grok::llm {

struct resolved_model {
  std::string role;
  std::string provider;
  std::string model;
  client_settings client;  // holds the API key: never log it
  structured_output_style output_style = structured_output_style::response_format;
  std::optional<double> temperature;
  std::optional<int> max_tokens;
};

// errc::invalid_argument for an unknown role, or when the role names an api_key_env that
// is not set (so the mistake shows at start-up, not on the first call).
[[nodiscard]] result<resolved_model> resolve_model(const config& c, std::string_view role,
                                                   const env_lookup& env);

// A request for `role` with its model, structured-output style and default parameters
// filled in; the caller adds messages.
[[nodiscard]] chat_request request_for(const resolved_model& m);

}  // namespace grok::llm
