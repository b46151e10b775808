#include "core/api_key.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>

#include "core/sha256.h"

namespace grok {

result<new_api_key> generate_api_key() {
  std::array<unsigned char, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return fail(errc::internal, "the system's random number generator failed");
  }
  static constexpr char k_hex[] = "0123456789abcdef";
  new_api_key out;
  out.key = std::string(k_api_key_marker);
  for (auto b : bytes) {
    out.key.push_back(k_hex[b >> 4U]);
    out.key.push_back(k_hex[b & 15U]);
  }
  OPENSSL_cleanse(bytes.data(), bytes.size());
  out.prefix = out.key.substr(0, k_api_key_prefix_chars);
  out.hash = hash_api_key(out.key);
  return out;
}

std::string hash_api_key(std::string_view key) { return sha256_hex(key); }

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool well_formed_api_key(std::string_view key) noexcept {
  if (key.size() != k_api_key_marker.size() + 64 || !key.starts_with(k_api_key_marker)) {
    return false;
  }
  for (char c : key.substr(k_api_key_marker.size())) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace grok
