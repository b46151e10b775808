#include "tools/http_get.h"

#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <optional>
#include <stop_token>

#include "core/version.h"
#include "llm/openai_wire.h"

namespace grok::tools {
namespace {

using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds k_connect_timeout{10'000};
constexpr std::size_t k_excerpt_bytes = 300;

void ensure_curl_initialised() {
  static const bool done = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
  (void)done;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

struct easy_deleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct multi_deleter {
  void operator()(CURLM* h) const { curl_multi_cleanup(h); }
};
struct url_deleter {
  void operator()(CURLU* h) const { curl_url_cleanup(h); }
};
struct curl_string_deleter {
  void operator()(char* s) const { curl_free(s); }
};
using curl_string = std::unique_ptr<char, curl_string_deleter>;

// One hop's state; the curl callbacks write here. Only the thread running the transfer
// touches it.
struct transfer_state {
  const address_policy* policy = nullptr;
  std::string host;  // the URL host of this hop, for host-name allow-list entries
  std::optional<error> refusal;
  std::size_t max_bytes = 0;
  bool too_large = false;
  std::string body;
  std::stop_token stop;
};

std::uint16_t sockaddr_port(const sockaddr* addr, socklen_t length) {
  if (addr->sa_family == AF_INET && length >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    sockaddr_in in{};
    std::memcpy(&in, addr, sizeof in);
    return ntohs(in.sin_port);
  }
  if (addr->sa_family == AF_INET6 && length >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, addr, sizeof in6);
    return ntohs(in6.sin6_port);
  }
  return 0;
}

// The SSRF guard: curl calls this with the resolved address before every connect, for
// every address of every hop. Refusing here means no packet reaches a refused address.
curl_socket_t open_socket(void* user, curlsocktype purpose, curl_sockaddr* address) {
  auto& st = *static_cast<transfer_state*>(user);
  auto refuse = [&](error e) {
    if (!st.refusal) st.refusal = std::move(e);
    return CURL_SOCKET_BAD;
  };
  if (purpose != CURLSOCKTYPE_IPCXN) {
    return refuse(error{errc::invalid_argument, "refused: not an outgoing connection"});
  }
  const auto ip = ip_address::from_sockaddr(&address->addr, address->addrlen);
  if (!ip) {
    return refuse(error{errc::invalid_argument, "refused: not an IPv4 or IPv6 address"});
  }
  const std::uint16_t port = sockaddr_port(&address->addr, address->addrlen);
  if (auto allowed = st.policy->check(st.host, *ip, port); !allowed) {
    return refuse(allowed.error());
  }
  return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto& st = *static_cast<transfer_state*>(user);
  const std::size_t n = size * count;
  if (st.body.size() + n > st.max_bytes) {
    st.too_large = true;
    return 0;  // anything but n aborts the transfer
  }
  st.body.append(data, n);
  return n;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto& st = *static_cast<transfer_state*>(user);
  return st.stop.stop_requested() ? 1 : 0;
}

std::string excerpt(std::string_view text) { return llm::safe_excerpt(text, k_excerpt_bytes); }

// A parsed, checked URL of one hop.
struct hop_url {
  std::unique_ptr<CURLU, url_deleter> handle;
  std::string host;  // without brackets
};

result<hop_url> parse_url(std::string_view url) {
  const std::string text(url);
  hop_url out{std::unique_ptr<CURLU, url_deleter>(curl_url()), {}};
  if (!out.handle) return fail(errc::internal, "curl_url() failed");
  // NON_SUPPORT_SCHEME: parse any scheme, so the message below names the refused one
  // instead of curl's "unsupported scheme".
  if (auto rc =
          curl_url_set(out.handle.get(), CURLUPART_URL, text.c_str(), CURLU_NON_SUPPORT_SCHEME);
      rc != CURLUE_OK) {
    return fail(errc::invalid_argument,
                "malformed URL \"" + excerpt(url) + "\": " + curl_url_strerror(rc));
  }
  char* raw = nullptr;
  auto rc = curl_url_get(out.handle.get(), CURLUPART_SCHEME, &raw, 0);
  const curl_string scheme_text(raw);
  if (rc != CURLUE_OK || !scheme_text) {
    return fail(errc::invalid_argument, "malformed URL \"" + excerpt(url) + "\": no scheme");
  }
  const std::string scheme = lower(scheme_text.get());
  if (scheme != "http" && scheme != "https") {
    return fail(errc::invalid_argument,
                "refused: scheme " + excerpt(scheme) + " is not allowed (only http and https)");
  }
  raw = nullptr;
  rc = curl_url_get(out.handle.get(), CURLUPART_HOST, &raw, 0);
  const curl_string host_text(raw);
  if (rc != CURLUE_OK || !host_text || *host_text == '\0') {
    return fail(errc::invalid_argument, "malformed URL \"" + excerpt(url) + "\": no host");
  }
  out.host = host_text.get();
  if (out.host.size() >= 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  return out;
}

bool is_tls_failure(CURLcode rc) {
  switch (rc) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_USE_SSL_FAILED:
      return true;
    default:
      return false;
  }
}

std::string size_limit_message(std::size_t max_bytes) {
  return "the response body is larger than the limit of " + std::to_string(max_bytes) +
         " bytes (tools.http_max_bytes)";
}

// Maps a failed transfer to an error the model can act on.
error transfer_error(CURLcode rc, const transfer_state& st, std::string_view url,
                     const char* detail, milliseconds budget) {
  const std::string what = "GET " + excerpt(url) + ": ";
  const std::string why = (detail != nullptr && *detail != '\0') ? detail : curl_easy_strerror(rc);
  if (st.stop.stop_requested() || rc == CURLE_ABORTED_BY_CALLBACK) {
    return {errc::cancelled, what + "cancelled", false};
  }
  if (st.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
    return {errc::invalid_argument, what + size_limit_message(st.max_bytes), false};
  }
  if (rc == CURLE_COULDNT_CONNECT && st.refusal) return *st.refusal;
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    // The limit, and curl's account of which phase ran out (connecting or transferring).
    return {errc::timeout,
            what + "timed out (limit " + std::to_string(budget.count()) + " ms): " + why, true};
  }
  if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL) {
    return {errc::invalid_argument, what + why, false};
  }
  if (is_tls_failure(rc)) return {errc::unavailable, what + "TLS failure: " + why, false};
  if (rc == CURLE_BAD_CONTENT_ENCODING || rc == CURLE_TOO_MANY_REDIRECTS) {
    return {errc::unavailable, what + why, false};
  }
  // Name resolution, connection refused or reset, a server that hung up: may pass.
  return {errc::unavailable, what + why, true};
}

bool is_redirect(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

error status_error(const http_response& r) {
  std::string message = "HTTP " + std::to_string(r.status) + " from " + excerpt(r.final_url);
  if (!r.body.empty() && is_text_content(r.content_type, r.body)) {
    message += ": " + excerpt(body_text(r));
  }
  // 5xx, 429 Too Many Requests and 408 Request Timeout describe the moment, not the
  // request: a later attempt may succeed.
  const bool retryable = r.status >= 500 || r.status == 429 || r.status == 408;
  return {errc::unavailable, std::move(message), retryable};
}

class http_get_tool final : public tool {
 public:
  explicit http_get_tool(const tools_config& config)
      : config_(config), policy_(address_policy::compile(config.http_allow)) {}

  [[nodiscard]] std::string_view name() const override { return "http_get"; }
  [[nodiscard]] std::string_view description() const override {
    return "GETs an http or https URL and returns the status, content type and body text. "
           "Private, loopback and link-local addresses are refused.";
  }
  [[nodiscard]] const nlohmann::json& parameters() const override { return schema_; }

  [[nodiscard]] result<tool_output> invoke(const nlohmann::json& args,
                                           const tool_context& ctx) override {
    const auto it = args.is_object() ? args.find("url") : args.end();
    if (!args.is_object() || it == args.end() || !it->is_string()) {
      return fail(errc::invalid_argument, "http_get needs a string \"url\"");
    }
    if (!policy_) return tl::unexpected(policy_.error());
    auto response = http_fetch(config_, *policy_, it->get_ref<const std::string&>(), ctx);
    if (!response) return tl::unexpected(response.error());
    tool_output out;
    out.text = "HTTP " + std::to_string(response->status);
    if (!response->content_type.empty()) out.text += " " + excerpt(response->content_type);
    out.text += "\n\n";
    if (is_text_content(response->content_type, response->body)) {
      out.text += body_text(*response);
    } else {
      out.text += "[binary body of " + std::to_string(response->body.size()) + " bytes, not shown]";
    }
    return out;
  }

 private:
  tools_config config_;
  result<address_policy> policy_;
  nlohmann::json schema_ = nlohmann::json::parse(R"({
    "type": "object",
    "properties": {"url": {"type": "string", "maxLength": 2048}},
    "required": ["url"],
    "additionalProperties": false
  })");
};

}  // namespace

result<http_response> http_fetch(const tools_config& config, const address_policy& policy,
                                 std::string_view url, const tool_context& ctx) {
  ensure_curl_initialised();
  if (ctx.stop.stop_requested()) {
    return fail(errc::cancelled, "GET " + excerpt(url) + ": cancelled");
  }
  const milliseconds budget = std::max(milliseconds(1), std::min(config.http_timeout, ctx.timeout));
  const auto deadline = steady::now() + budget;

  // Declared before the curl handles, which point at them, so they outlive the handles.
  transfer_state st;
  st.policy = &policy;
  st.max_bytes = static_cast<std::size_t>(std::max<std::int64_t>(0, config.http_max_bytes));
  st.stop = ctx.stop;
  std::array<char, CURL_ERROR_SIZE> detail{};
  std::optional<hop_url> target;  // the URL of the hop in flight (CURLOPT_CURLU)

  std::unique_ptr<CURLM, multi_deleter> multi(curl_multi_init());
  std::unique_ptr<CURL, easy_deleter> easy(curl_easy_init());
  if (!multi || !easy) return fail(errc::internal, "curl initialisation failed");
  // Declared after the handles so it is gone (and not running) before they are freed.
  CURLM* multi_raw = multi.get();
  std::stop_callback wake_on_stop(ctx.stop, [multi_raw] { curl_multi_wakeup(multi_raw); });
  const std::string agent = "grok/" + std::string(k_version);  // curl copies it

  CURL* h = easy.get();
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);  // followed below, each hop checked
  curl_easy_setopt(h, CURLOPT_PROXY, "");           // no proxy from the environment
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, agent.c_str());
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");  // decoded bytes count toward the limit
  curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(st.max_bytes));
  curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
  curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &st);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &st);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, &st);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, detail.data());

  std::string current(url);
  for (int hop = 0;; ++hop) {
    auto parsed = parse_url(current);
    if (!parsed) return tl::unexpected(parsed.error());
    st.host = parsed->host;
    st.refusal.reset();
    st.body.clear();
    st.too_large = false;
    detail[0] = '\0';

    const auto left = std::chrono::duration_cast<milliseconds>(deadline - steady::now());
    if (left <= milliseconds(0)) {
      return fail(
          errc::timeout,
          "GET " + excerpt(url) + ": timed out (limit " + std::to_string(budget.count()) + " ms)",
          true);
    }
    curl_easy_setopt(h, CURLOPT_CURLU, parsed->handle.get());
    // Keeps this hop's URL alive; the previous one is freed now curl no longer points at it.
    target = std::move(*parsed);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(left.count()));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::min(left, k_connect_timeout).count()));

    curl_multi_add_handle(multi_raw, h);
    CURLMcode mc = CURLM_OK;
    for (;;) {
      int running = 0;
      mc = curl_multi_perform(multi_raw, &running);
      if (mc != CURLM_OK || running == 0 || ctx.stop.stop_requested()) break;
      curl_multi_poll(multi_raw, nullptr, 0, 1000, nullptr);
    }
    std::optional<CURLcode> rc;
    int pending = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_raw, &pending)) {
      if (msg->msg == CURLMSG_DONE && msg->easy_handle == h) rc = msg->data.result;
    }
    curl_multi_remove_handle(multi_raw, h);
    if (ctx.stop.stop_requested()) {
      return fail(errc::cancelled, "GET " + excerpt(url) + ": cancelled");
    }
    if (mc != CURLM_OK || !rc) {
      return fail(errc::internal, "GET " + excerpt(url) +
                                      ": curl multi interface failed: " + curl_multi_strerror(mc));
    }
    if (*rc != CURLE_OK) {
      return tl::unexpected(transfer_error(*rc, st, current, detail.data(), budget));
    }

    http_response response;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
    const char* type = nullptr;
    curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &type);
    if (type != nullptr) response.content_type = type;
    response.final_url = current;

    const char* location = nullptr;
    curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &location);
    if (is_redirect(response.status) && location != nullptr && *location != '\0') {
      if (hop >= config.http_max_redirects) {
        return fail(errc::unavailable, "GET " + excerpt(url) + ": too many redirects (more than " +
                                           std::to_string(config.http_max_redirects) +
                                           ", tools.http_max_redirects)");
      }
      current = location;  // already absolute: curl resolves it against this hop's URL
      continue;
    }
    if (response.status < 200 || response.status > 299) {
      response.body = std::move(st.body);
      return tl::unexpected(status_error(response));
    }
    response.body = std::move(st.body);
    return response;
  }
}

std::string content_type_charset(std::string_view content_type) {
  std::size_t pos = content_type.find(';');
  while (pos != std::string_view::npos) {
    std::string_view rest = content_type.substr(pos + 1);
    const std::size_t next = rest.find(';');
    std::string_view param = trim(rest.substr(0, next));
    if (lower(param.substr(0, std::min<std::size_t>(param.size(), 8))) == "charset=") {
      std::string_view value = trim(param.substr(8));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      return lower(value);
    }
    pos = next == std::string_view::npos ? next : pos + 1 + next;
  }
  return {};
}

bool is_text_content(std::string_view content_type, std::string_view body) {
  const std::string type = lower(trim(content_type.substr(0, content_type.find(';'))));
  if (type.empty()) {
    // No type given: call it text unless the start looks binary.
    return body.substr(0, 1024).find('\0') == std::string_view::npos;
  }
  if (type.rfind("text/", 0) == 0) return true;
  auto ends_with = [&](std::string_view suffix) {
    return type.size() >= suffix.size() &&
           type.compare(type.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends_with("+json") || ends_with("+xml")) return true;
  static constexpr std::array<std::string_view, 10> k_text_types{
      "application/json",       "application/xml",          "application/javascript",
      "application/ecmascript", "application/x-javascript", "application/x-www-form-urlencoded",
      "application/yaml",       "application/x-yaml",       "application/toml",
      "application/x-ndjson"};
  return std::find(k_text_types.begin(), k_text_types.end(), type) != k_text_types.end();
}

std::string body_text(const http_response& response) {
  const std::string charset = content_type_charset(response.content_type);
  std::string_view body = response.body;
  if (charset == "iso-8859-1" || charset == "latin1" || charset == "windows-1252" ||
      charset == "us-ascii") {
    // Every byte is one character: U+0000..U+00FF (windows-1252's 0x80..0x9F extras are
    // rare enough to show as their C1 code points).
    std::string out;
    out.reserve(body.size());
    for (char c : body) {
      const auto b = static_cast<unsigned char>(c);
      if (b < 0x80) {
        out += c;
      } else {
        out += static_cast<char>(0xC0 | (b >> 6));
        out += static_cast<char>(0x80 | (b & 0x3F));
      }
    }
    return out;
  }
  if (body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3);  // a UTF-8 byte order mark
  return llm::sanitize_utf8(body);
}

std::unique_ptr<tool> make_http_get_tool(const tools_config& config) {
  return std::make_unique<http_get_tool>(config);
}

}  // namespace grok::tools
