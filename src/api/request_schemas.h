// Request bodies of the HTTP API's write routes, checked before a handler sees them: the
// size limit (413), the media type (application/json, parameters allowed; a body without a
// Content-Type is 415), UTF-8 (checked before parsing), nesting depth, JSON syntax (400 with
// the position), and the route's JSON Schema (schemas/api/*.json, built into the binary;
// 400 naming the offending field).
// Thread-safety: request_schemas is immutable after load(); the functions are pure.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "api/http_types.h"
#include "core/json_schema.h"
#include "core/result.h"

namespace grok::api {

inline constexpr int k_max_body_depth = 64;

// A body that cannot be used: the status (400, 413, 415) and why.
struct body_problem {
  int status = 400;
  std::string detail;
};

// Reads a request's JSON body. An empty body is JSON null when `required` is false, and a
// 400 when it is true.
[[nodiscard]] tl::expected<nlohmann::json, body_problem> read_json_body(const http_request& request,
                                                                        std::size_t max_body_bytes,
                                                                        bool required);

enum class body_kind { create_run, cancel_run, approve_run };

class request_schemas {
 public:
  // Compiles schemas/api/*.json. errc::internal when one is missing or unusable (a build
  // error).
  [[nodiscard]] static result<request_schemas> load();

  // errc::invalid_argument naming the offending field ("body.options.max_steps: …").
  [[nodiscard]] result<void> validate(body_kind kind, const nlohmann::json& body) const;

  // The schema document of a kind (for tests and the OpenAPI check).
  [[nodiscard]] const nlohmann::json& document(body_kind kind) const;

  // The embedded file name of a kind, e.g. "schemas/api/create_run.json".
  [[nodiscard]] static std::string_view file_name(body_kind kind) noexcept;

 private:
  request_schemas(json_schema create, json_schema cancel, json_schema approve)
      : create_(std::move(create)), cancel_(std::move(cancel)), approve_(std::move(approve)) {}
  [[nodiscard]] const json_schema& schema(body_kind kind) const noexcept;

  json_schema create_;
  json_schema cancel_;
  json_schema approve_;
};

}  // namespace grok::api
