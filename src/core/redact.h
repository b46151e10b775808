// Hiding secrets in text meant for logs and messages.
#pragma once

#include <string>

namespace grok {

// A URL with the password of its user-info replaced by "***"
// (scheme://user:***@host/…), for logs and messages; other URLs come back unchanged.
// (Defined in core/config.cpp, which the config fuzzer also builds.)
[[nodiscard]] std::string redact_url_password(const std::string& url);

}  // namespace grok
