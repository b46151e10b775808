#include "api/signing.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>

#include "core/api_key.h"

namespace grok::api {

std::string sign_request(std::string_view secret, std::string_view timestamp,
                         std::string_view method, std::string_view target, std::string_view body) {
  std::string message;
  message.reserve(timestamp.size() + method.size() + target.size() + body.size() + 3);
  message.append(timestamp).append("\n").append(method).append("\n").append(target);
  message.append("\n").append(body);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest,
           &length) == nullptr) {
    return {};  // never equal to a sent signature: the request is refused
  }
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(k_hex[digest[i] >> 4U]);
    out.push_back(k_hex[digest[i] & 15U]);
  }
  return out;
}

result<void> verify_request(std::string_view secret, const signed_request& r, time_point now) {
  if (r.timestamp.empty() || r.signature.empty()) {
    return fail(errc::unauthenticated,
                "this server requires signed requests: send X-Grok-Timestamp and "
                "X-Grok-Signature");
  }
  std::int64_t seconds = 0;
  const auto* end = r.timestamp.data() + r.timestamp.size();
  auto [ptr, ec] = std::from_chars(r.timestamp.data(), end, seconds);
  if (ec != std::errc() || ptr != end || r.timestamp.size() > 12) {
    return fail(errc::unauthenticated, "X-Grok-Timestamp must be Unix seconds");
  }
  const auto sent = std::chrono::seconds(seconds);
  const auto here = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch());
  if (sent < here - k_signature_window || sent > here + k_signature_window) {
    return fail(errc::unauthenticated,
                "X-Grok-Timestamp is more than 5 minutes from the server's clock (now " +
                    std::to_string(here.count()) + ")");
  }
  const auto expected = sign_request(secret, r.timestamp, r.method, r.target, r.body);
  if (expected.empty() || !constant_time_equal(expected, r.signature)) {
    return fail(errc::unauthenticated, "X-Grok-Signature does not match the request");
  }
  return {};
}

}  // namespace grok::api
