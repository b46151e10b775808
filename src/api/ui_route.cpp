#include "api/ui_route.h"

#include <array>

#include "api/problem.h"

namespace grok::api {
namespace {

constexpr std::string_view k_index = "index.html";
constexpr std::string_view k_assets_prefix = "assets/";
constexpr std::string_view k_cache_immutable = "public, max-age=31536000, immutable";
constexpr std::string_view k_cache_revalidate = "no-cache";

constexpr std::string_view k_no_ui_page =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>GROK: no UI "
    "built</title></head>\n<body><h1>The GROK web UI is not built into this binary</h1>\n"
    "<p>Build it with <code>make serve</code> (it builds <code>web/</code> with npm, then the "
    "server), or start <code>grok serve</code> with <code>GROK_UI_DIR</code> set to a built "
    "<code>web/dist</code> (<code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>).</p>\n"
    "<p>The HTTP API is unaffected: see <a href=\"/openapi.json\">/openapi.json</a>.</p>\n"
    "</body></html>\n";

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A q value: "0", "0.", "0.0"…"0.000" are zero; "1"…, "0.5" are positive; anything else
// (malformed) counts as zero.
bool positive_q(std::string_view q) noexcept {
  if (q.empty() || q.size() > 5) return false;
  if (q[0] == '1') {
    if (q.size() == 1) return true;
    if (q[1] != '.') return false;
    for (char c : q.substr(2)) {
      if (c != '0') return false;
    }
    return true;
  }
  if (q[0] != '0') return false;
  if (q.size() == 1) return false;
  if (q[1] != '.') return false;
  bool any = false;
  for (char c : q.substr(2)) {
    if (c < '0' || c > '9') return false;
    if (c != '0') any = true;
  }
  return any;
}

void add_policy_headers(http_response& r) {
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("Content-Security-Policy", std::string(k_ui_content_security_policy));
}

http_response ui_problem(int status, std::string_view detail, std::string_view request_id) {
  auto r = problem_response(status, detail, request_id);
  // problem_response sets X-Request-Id; the service's finish() keeps the first one.
  add_policy_headers(r);
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

http_response serve_file(const ui_file& f, const http_request& request) {
  const bool gzip = !f.gzip.empty() && accepts_gzip(request.header("Accept-Encoding").value_or(""));
  const auto& etag = gzip ? f.etag_gzip : f.etag;
  http_response r;
  r.headers.emplace_back("Cache-Control",
                         std::string(f.immutable ? k_cache_immutable : k_cache_revalidate));
  r.headers.emplace_back("ETag", etag);
  if (!f.gzip.empty()) r.headers.emplace_back("Vary", "Accept-Encoding");
  add_policy_headers(r);
  if (const auto inm = request.header("If-None-Match");
      inm && none_match_hits(*inm, f.etag, f.etag_gzip)) {
    r.status = 304;
    return r;
  }
  r.status = 200;
  r.headers.emplace_back("Content-Type", std::string(f.content_type));
  if (gzip) r.headers.emplace_back("Content-Encoding", "gzip");
  const auto body = gzip ? f.gzip : f.bytes;
  r.body.assign(body.data(), body.size());
  return r;
}

http_response no_ui_page() {
  http_response r;
  r.status = 404;
  r.headers.emplace_back("Content-Type", "text/html; charset=utf-8");
  r.headers.emplace_back("Cache-Control", "no-store");
  add_policy_headers(r);
  r.body = std::string(k_no_ui_page);
  return r;
}

}  // namespace

bool is_api_path(std::string_view path) noexcept {
  if (path.empty() || path.front() != '/') return true;
  if (path == "/v1" || path.starts_with("/v1/")) return true;
  static constexpr std::array<std::string_view, 4> k_system = {"/healthz", "/readyz", "/metrics",
                                                               "/openapi.json"};
  for (auto p : k_system) {
    if (path == p) return true;
  }
  return false;
}

std::optional<std::string> decode_ui_path(std::string_view path) {
  if (path.empty() || path.front() != '/') return std::nullopt;
  std::string out;
  out.reserve(path.size());
  for (std::size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '%') {
      if (i + 2 >= path.size()) return std::nullopt;
      const int hi = hex_value(path[i + 1]);
      const int lo = hex_value(path[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '\\') return std::nullopt;
    out.push_back(c);
  }
  // No "." or ".." segment anywhere, decoded or not.
  std::size_t start = 1;
  while (start <= out.size()) {
    auto end = out.find('/', start);
    if (end == std::string::npos) end = out.size();
    const auto segment = std::string_view(out).substr(start, end - start);
    if (segment == "." || segment == "..") return std::nullopt;
    start = end + 1;
  }
  return out;
}

bool accepts_gzip(std::string_view accept_encoding) noexcept {
  bool gzip_listed = false;
  bool gzip_ok = false;
  bool star_ok = false;
  while (!accept_encoding.empty()) {
    const auto comma = accept_encoding.find(',');
    auto item = accept_encoding.substr(0, comma);
    accept_encoding =
        comma == std::string_view::npos ? std::string_view() : accept_encoding.substr(comma + 1);
    const auto semi = item.find(';');
    const auto coding = trim(item.substr(0, semi));
    bool ok = true;
    if (semi != std::string_view::npos) {
      auto params = item.substr(semi + 1);
      while (!params.empty()) {
        const auto next = params.find(';');
        const auto param = trim(params.substr(0, next));
        params = next == std::string_view::npos ? std::string_view() : params.substr(next + 1);
        if (param.size() >= 2 && lower(param[0]) == 'q' && param[1] == '=') {
          ok = positive_q(trim(param.substr(2)));
        }
      }
    }
    if (iequal(coding, "gzip") || iequal(coding, "x-gzip")) {
      gzip_listed = true;
      gzip_ok = gzip_ok || ok;
    } else if (coding == "*") {
      star_ok = ok;
    }
  }
  return gzip_listed ? gzip_ok : star_ok;
}

bool none_match_hits(std::string_view if_none_match, std::string_view etag,
                     std::string_view other_etag) noexcept {
  auto value = trim(if_none_match);
  if (value == "*") return true;
  while (true) {
    while (!value.empty() &&
           (value.front() == ',' || value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    if (value.empty()) return false;
    if (value.starts_with("W/")) value.remove_prefix(2);
    if (value.empty() || value.front() != '"') return false;  // malformed: no match
    const auto close = value.find('"', 1);
    if (close == std::string_view::npos) return false;
    const auto tag = value.substr(0, close + 1);
    if (tag == etag || tag == other_etag) return true;
    value.remove_prefix(close + 1);
  }
}

http_response serve_ui(const ui_assets& assets, const http_request& request,
                       std::string_view request_id) {
  if (request.method != "GET" && request.method != "HEAD") {
    auto r = ui_problem(405, "the web UI answers GET and HEAD, not " + request.method.substr(0, 16),
                        request_id);
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  const auto raw = std::string_view(request.target).substr(0, request.target.find('?'));
  if (raw.size() > k_max_ui_path_bytes) {
    return ui_problem(414,
                      "the path is longer than " + std::to_string(k_max_ui_path_bytes) + " bytes",
                      request_id);
  }
  const auto path = decode_ui_path(raw);
  if (!path) {
    return ui_problem(400,
                      "malformed path: a broken %-escape, a control character, a backslash or a "
                      "'.' or '..' segment",
                      request_id);
  }
  std::string_view key = std::string_view(*path).substr(1);
  if (key.empty()) key = k_index;
  if (const auto* f = assets.find(key)) return serve_file(*f, request);

  const auto slash = key.rfind('/');
  const auto last = slash == std::string_view::npos ? key : key.substr(slash + 1);
  const bool has_extension = last.find('.', 1) != std::string_view::npos;
  if ((has_extension && key != k_index) || key.starts_with(k_assets_prefix)) {
    return ui_problem(404, "no such file: " + path->substr(0, 200), request_id);
  }
  if (const auto* index = assets.find(k_index)) return serve_file(*index, request);
  return no_ui_page();
}

}  // namespace grok::api
