// Who is calling (SPEC §3): the API key of a request, from `Authorization: Bearer <key>` or,
// on the two streaming routes only, from `?access_token=<key>` (browsers' EventSource and
// WebSocket cannot set headers). The key is looked up by its SHA-256 and compared in
// constant time; unknown, revoked and malformed keys are refused alike.
//
// Also the ownership rule: a runs key sees and controls only the runs it created, an admin
// key every run.
// Thread-safety: pure functions over a thread-safe store.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "api/http_types.h"
#include "core/result.h"
#include "store/run_types.h"
#include "store/store.h"

namespace grok::api {

struct principal {
  std::string key_id;  // key_…
  bool admin = false;
};

// The key a request presents: the Authorization header (scheme "Bearer", any case), else
// `query_token` when the route accepts one. errc::unauthenticated when the header is there
// but is not a Bearer credential, or when there is no key at all.
[[nodiscard]] result<std::string> presented_key(const http_request& request,
                                                std::optional<std::string_view> query_token);

// Looks the key up. errc::unauthenticated (malformed, unknown, revoked); the store's own
// errors (busy, unavailable, …) as they come.
[[nodiscard]] result<principal> authenticate_key(store::store& st, std::string_view key);

// Whether `who` may see and control `run`.
[[nodiscard]] bool may_access(const principal& who, const store::run_record& run) noexcept;

}  // namespace grok::api
