#include "core/json_schema.h"

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include <stdexcept>

namespace grok {

struct json_schema::impl {
  nlohmann::json document;
  valijson::Schema schema;
};

json_schema::json_schema(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
json_schema::json_schema(json_schema&&) noexcept = default;
json_schema& json_schema::operator=(json_schema&&) noexcept = default;
json_schema::~json_schema() = default;

result<json_schema> json_schema::compile(const nlohmann::json& schema) {
  auto p = std::make_unique<impl>();
  p->document = schema;
  // valijson reports an unusable schema by throwing; converted here, at the call.
  try {
    valijson::SchemaParser parser;
    valijson::adapters::NlohmannJsonAdapter adapter(p->document);
    parser.populateSchema(adapter, p->schema);
  } catch (const std::exception& e) {
    return fail(errc::invalid_argument, std::string("not a usable JSON Schema: ") + e.what());
  }
  return json_schema(std::move(p));
}

result<void> json_schema::validate(const nlohmann::json& doc, int max_errors) const {
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter target(doc);
  bool ok = false;
  try {
    ok = validator.validate(impl_->schema, target, &results);
  } catch (const std::exception& e) {
    return fail(errc::invalid_argument, std::string("cannot be validated: ") + e.what());
  }
  if (ok) return {};
  std::string message;
  valijson::ValidationResults::Error err;
  for (int shown = 0; shown < max_errors && results.popError(err); ++shown) {
    std::string path;
    for (const auto& part : err.context) path += part;
    if (!message.empty()) message += "; ";
    message += (path.empty() ? std::string("<root>") : path) + ": " + err.description;
  }
  return fail(errc::invalid_argument, message);
}

const nlohmann::json& json_schema::document() const { return impl_->document; }

}  // namespace grok
