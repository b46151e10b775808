#include "llm/structured_output.h"

#include <nlohmann/json.hpp>

#include "core/json_schema.h"
#include "llm/openai_wire.h"

namespace grok::llm {

result<void> check_structured_output(std::string_view content, std::string_view schema_json) {
  using json = nlohmann::json;
  json schema_doc = json::parse(schema_json, nullptr, /*allow_exceptions=*/false);
  if (schema_doc.is_discarded()) return fail(errc::internal, "the output schema is not JSON");
  auto schema = json_schema::compile(schema_doc);
  if (!schema) {
    return fail(errc::internal, "the output schema cannot be used: " + schema.error().message);
  }
  json doc = json::parse(sanitize_utf8(content), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return fail(errc::invalid_argument, "the answer is not JSON: " + safe_excerpt(content, 200));
  }
  auto valid = schema->validate(doc);
  if (!valid) {
    return fail(errc::invalid_argument,
                "the answer does not match the schema: " + valid.error().message);
  }
  return {};
}

}  // namespace grok::llm
