#include "llm/structured_output.h"

#include <nlohmann/json.hpp>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include <stdexcept>

#include "llm/openai_wire.h"

namespace grok::llm {

result<void> check_structured_output(std::string_view content, std::string_view schema_json) {
  using json = nlohmann::json;
  json schema_doc = json::parse(schema_json, nullptr, /*allow_exceptions=*/false);
  if (schema_doc.is_discarded()) return fail(errc::internal, "the output schema is not JSON");
  valijson::Schema schema;
  // valijson reports an unusable schema by throwing; converted here, at the call.
  try {
    valijson::SchemaParser parser;
    valijson::adapters::NlohmannJsonAdapter schema_adapter(schema_doc);
    parser.populateSchema(schema_adapter, schema);
  } catch (const std::exception& e) {
    return fail(errc::internal, std::string("the output schema cannot be used: ") + e.what());
  }

  json doc = json::parse(sanitize_utf8(content), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return fail(errc::invalid_argument, "the answer is not JSON: " + safe_excerpt(content, 200));
  }
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter target(doc);
  if (validator.validate(schema, target, &results)) return {};
  std::string message = "the answer does not match the schema:";
  valijson::ValidationResults::Error err;
  for (int shown = 0; shown < 3 && results.popError(err); ++shown) {
    std::string path;
    for (const auto& part : err.context) path += part;
    message += " " + (path.empty() ? std::string("<root>") : path) + ": " + err.description + ";";
  }
  return fail(errc::invalid_argument, message);
}

}  // namespace grok::llm
