// Checks a structured-output answer against the JSON Schema it was requested with.
// Servers do not all enforce response_format / format strictly, and small models drift,
// so GROK checks what came back rather than trusting the request.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace grok::llm {

// Succeeds when `content` is JSON valid against `schema_json`. errc::invalid_argument with
// a message naming the first problems (path and reason) otherwise; errc::internal when
// the schema itself cannot be compiled.
[[nodiscard]] result<void> check_structured_output(std::string_view content,
                                                   std::string_view schema_json);

}  // namespace grok::llm
