#include "llm/model_registry.h"

#include <gtest/gtest.h>

#include <map>

#include "cli/config_loader.h"

namespace grok::llm {
namespace {

env_lookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

result<config> load(const std::string& toml) {
  config c;
  if (auto r = cli::apply_toml(c, toml, "grok.toml"); !r) return tl::unexpected(r.error());
  return c;
}

const char* k_registry = R"(
llm_base_url = "http://127.0.0.1:11434/v1"
planner_model = "llama3.1:8b"

[llm]
first_byte_timeout_ms = 5000
max_attempts = 2

[models.planner]
base_url = "http://127.0.0.1:8000/v1"
model = "qwen2.5-7b-instruct"
provider = "vllm"
temperature = 0.2
max_tokens = 2048

[models.solver]
provider = "ollama"
api_key_env = "SOLVER_KEY"
)";

TEST(model_registry, roles_resolve_from_their_tables_then_the_defaults) {
  auto c = load(k_registry);
  ASSERT_TRUE(c) << c.error().message;
  c->llm_api_key = "default-key";
  auto env = env_of({{"SOLVER_KEY", "solver-key"}});

  auto planner = resolve_model(*c, "planner", env);
  ASSERT_TRUE(planner) << planner.error().message;
  EXPECT_EQ(planner->client.base_url, "http://127.0.0.1:8000/v1");
  EXPECT_EQ(planner->model, "qwen2.5-7b-instruct");
  EXPECT_EQ(planner->output_style, structured_output_style::response_format);
  EXPECT_EQ(planner->client.api_key, "default-key");
  EXPECT_EQ(planner->temperature, 0.2);
  EXPECT_EQ(planner->max_tokens, 2048);
  EXPECT_EQ(planner->client.timeouts.first_byte, millis(5000));
  EXPECT_EQ(planner->client.retry.max_attempts, 2);

  auto solver = resolve_model(*c, "solver", env);
  ASSERT_TRUE(solver) << solver.error().message;
  EXPECT_EQ(solver->client.base_url, "http://127.0.0.1:11434/v1");
  EXPECT_EQ(solver->model, "llama3.1:8b");
  EXPECT_EQ(solver->output_style, structured_output_style::ollama_format);
  EXPECT_EQ(solver->client.api_key, "solver-key");

  auto tool = resolve_model(*c, "llm", env);
  ASSERT_TRUE(tool);
  EXPECT_EQ(tool->model, c->solver_model);

  auto req = request_for(*planner);
  EXPECT_EQ(req.model, "qwen2.5-7b-instruct");
  EXPECT_EQ(req.temperature, 0.2);

  EXPECT_FALSE(resolve_model(*c, "critic", env));
  auto missing_key = resolve_model(*c, "solver", env_of({}));
  ASSERT_FALSE(missing_key);
  EXPECT_NE(missing_key.error().message.find("SOLVER_KEY"), std::string::npos);
}

TEST(model_registry, environment_overrides_the_file) {
  // GROK_LLM_BASE_URL and GROK_PLANNER_MODEL beat [models.planner] in grok.toml.
  cli::config_request request;
  request.env =
      env_of({{"GROK_LLM_BASE_URL", "http://127.0.0.1:9999/v1"}, {"GROK_PLANNER_MODEL", "phi3"}});
  const std::string path = std::string(::testing::TempDir()) + "/grok-registry-test.toml";
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs(k_registry, f);
    std::fclose(f);
  }
  request.config_path = path;
  auto c = cli::load_config(request);
  ASSERT_TRUE(c) << c.error().message;
  auto planner = resolve_model(*c, "planner", env_of({}));
  ASSERT_TRUE(planner);
  EXPECT_EQ(planner->client.base_url, "http://127.0.0.1:9999/v1");
  EXPECT_EQ(planner->model, "phi3");
  std::remove(path.c_str());
}

TEST(model_registry, bad_model_tables_name_the_key) {
  struct bad_case {
    std::string toml;
    std::string expect;
  };
  for (const auto& [toml, expect] : std::vector<bad_case>{
           {"[models.critic]\nmodel = \"x\"\n", "models.critic: unknown role"},
           {"[models.planner]\nprovider = \"bedrock\"\n",
            "models.planner.provider: 'bedrock' is not a provider"},
           {"[models.planner]\ntemperature = 3\n",
            "models.planner.temperature: expected a number from 0 to 2"},
           {"[models.planner]\nmax_tokens = 0\n", "models.planner.max_tokens"},
           {"[models.planner]\napi_key = \"sk-live\"\n",
            "secrets are not read from the config file"},
           {"[models.planner]\napi_key_env = \"not a name\"\n",
            "expected the name of an environment variable"},
           {"[models.planner]\nmodel = \"\"\n",
            "models.planner.model: expected a non-empty string"},
           {"[models.planner]\ncolour = \"red\"\n", "models.planner.colour: unknown setting"},
           {"models = 3\n", "models: expected a table of roles"},
           {"[llm]\nmax_attempts = 0\n", "llm.max_attempts: 0 is out of range"},
       }) {
    auto c = load(toml);
    ASSERT_FALSE(c) << toml;
    EXPECT_NE(c.error().message.find(expect), std::string::npos)
        << toml << " -> " << c.error().message;
    EXPECT_EQ(c.error().message.find("sk-live"), std::string::npos);
  }
}

}  // namespace
}  // namespace grok::llm
