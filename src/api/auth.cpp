#include "api/auth.h"

#include <cctype>

#include "core/api_key.h"

namespace grok::api {
namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

result<std::string> presented_key(const http_request& request,
                                  std::optional<std::string_view> query_token) {
  if (auto header = request.header("Authorization")) {
    const auto value = trim(*header);
    const auto space = value.find(' ');
    if (space == std::string_view::npos || !iequals(value.substr(0, space), "Bearer")) {
      return fail(errc::unauthenticated, "the Authorization header must be 'Bearer <API key>'");
    }
    const auto key = trim(value.substr(space + 1));
    if (key.empty()) return fail(errc::unauthenticated, "the Bearer credential is empty");
    return std::string(key);
  }
  if (query_token) {
    if (query_token->empty()) return fail(errc::unauthenticated, "access_token is empty");
    return std::string(*query_token);
  }
  return fail(errc::unauthenticated,
              "an API key is required: send 'Authorization: Bearer <API key>'");
}

result<principal> authenticate_key(store::store& st, std::string_view key) {
  // One message for every refused key, so the answer tells nothing about which keys exist.
  constexpr std::string_view k_refused = "the API key is not valid (unknown, revoked or malformed)";
  if (!well_formed_api_key(key)) return fail(errc::unauthenticated, std::string(k_refused));
  const auto hash = hash_api_key(key);
  auto found = st.find_api_key(hash);
  if (!found) return tl::unexpected(found.error());
  if (!*found || !constant_time_equal((*found)->hash, hash) || (*found)->revoked_at) {
    return fail(errc::unauthenticated, std::string(k_refused));
  }
  const auto& record = **found;
  if (record.scope != "admin" && record.scope != "runs") {
    return fail(errc::unauthenticated, std::string(k_refused));
  }
  return principal{record.id, record.scope == "admin"};
}

bool may_access(const principal& who, const store::run_record& run) noexcept {
  return who.admin || (run.owner_key_id && *run.owner_key_id == who.key_id);
}

}  // namespace grok::api
