// SHA-256 (OpenSSL) as lowercase hex.
#pragma once

#include <string>
#include <string_view>

namespace grok {

[[nodiscard]] std::string sha256_hex(std::string_view data);

}  // namespace grok
