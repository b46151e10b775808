// Text for terminal lines, shared by the subcommands.
#pragma once

#include <cstddef>
#include <string>

namespace grok::cli {

// `s` on one line (newlines and tabs become spaces), cut to at most `max` bytes on a UTF-8
// character boundary, with "..." marking a cut.
inline std::string one_line(std::string s, std::size_t max) {
  for (auto& ch : s) {
    if (ch == '\n' || ch == '\r' || ch == '\t') ch = ' ';
  }
  if (s.size() > max) {
    std::size_t cut = max > 3 ? max - 3 : 0;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0U) == 0x80U) --cut;
    s = s.substr(0, cut) + "...";
  }
  return s;
}

}  // namespace grok::cli
