#include "core/result.h"

namespace grok {

std::string_view to_string(errc code) noexcept {
  switch (code) {
    case errc::invalid_argument:
      return "invalid_argument";
    case errc::not_found:
      return "not_found";
    case errc::conflict:
      return "conflict";
    case errc::already_exists:
      return "already_exists";
    case errc::io:
      return "io";
    case errc::corrupt:
      return "corrupt";
    case errc::busy:
      return "busy";
    case errc::unavailable:
      return "unavailable";
    case errc::timeout:
      return "timeout";
    case errc::cancelled:
      return "cancelled";
    case errc::unsupported:
      return "unsupported";
    case errc::unauthenticated:
      return "unauthenticated";
    case errc::internal:
      return "internal";
  }
  return "unknown";
}

std::string describe(const error& e) {
  std::string out(to_string(e.code));
  out += ": ";
  out += e.message;
  return out;
}

}  // namespace grok
