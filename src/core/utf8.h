// UTF-8 decoding shared by every layer that checks text: the store (text every backend can
// keep) and the HTTP API (request bodies). No I/O.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string_view>

namespace grok {

// The length of the well-formed UTF-8 sequence at text[i] (i < text.size()) and its code
// point; 0 when the bytes there are not one (overlong forms, surrogates and values past
// U+10FFFF included).
[[nodiscard]] std::size_t decode_utf8(std::string_view text, std::size_t i, char32_t& cp) noexcept;

// True when all of `text` is well-formed UTF-8.
[[nodiscard]] bool is_valid_utf8(std::string_view text) noexcept;

}  // namespace grok
