// Decompresses a gzip stream with zlib, for the tests that check the UI's gzip copies.
#pragma once

#include <string>
#include <string_view>

namespace grok::testing {

// gzip → bytes (windowBits 16 + MAX_WBITS: the gzip wrapper, its CRC-32 and length are
// checked). Throws std::runtime_error on a broken or truncated stream.
std::string gunzip(std::string_view gz);

}  // namespace grok::testing
