// A compiled JSON Schema (draft 7 via valijson), reused for many validations: tool
// arguments, plans, event envelopes, structured model output.
//
// Thread-safety: validate() may be called from many threads at once on one schema.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/result.h"

namespace grok {

class json_schema {
 public:
  // errc::invalid_argument when `schema` is not a usable JSON Schema.
  static result<json_schema> compile(const nlohmann::json& schema);

  json_schema(json_schema&&) noexcept;
  json_schema& operator=(json_schema&&) noexcept;
  ~json_schema();

  // errc::invalid_argument naming up to `max_errors` offending places ("<root>.args.url:
  // …"), each described by valijson.
  [[nodiscard]] result<void> validate(const nlohmann::json& doc, int max_errors = 3) const;

  [[nodiscard]] const nlohmann::json& document() const;

 private:
  struct impl;
  explicit json_schema(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace grok
