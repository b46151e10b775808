#include "api/request_schemas.h"

#include <cctype>

#include "core/embedded_files.h"
#include "core/utf8.h"

namespace grok::api {

using json = nlohmann::json;

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_json_media_type(std::string_view content_type) {
  return lower(trim(content_type.substr(0, content_type.find(';')))) == "application/json";
}

// Whether arrays and objects nest deeper than `limit`, found without parsing (the parser and
// everything that walks a document afterwards recurse).
bool nests_deeper_than(std::string_view text, int limit) noexcept {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

// valijson's "<root>[options][max_steps]: Value type not permitted…" as
// "body.options.max_steps: Value type not permitted…", and its sentence for a property no
// schema allows as "unknown field 'x'".
std::string readable_schema_error(std::string_view message) {
  const auto colon = message.find(": ");
  if (colon == std::string_view::npos) return "body: " + std::string(message);
  auto path = message.substr(0, colon);
  auto why = std::string(message.substr(colon + 2));
  std::string out = "body";
  if (path.starts_with("<root>")) path.remove_prefix(6);
  while (!path.empty()) {
    const auto close = path.find(']');
    if (path.front() != '[' || close == std::string_view::npos) {
      out += std::string(path);
      break;
    }
    const auto name = path.substr(1, close - 1);
    const bool index =
        !name.empty() && name.find_first_not_of("0123456789") == std::string_view::npos;
    out += index ? "[" + std::string(name) + "]" : "." + std::string(name);
    path.remove_prefix(close + 1);
  }
  constexpr std::string_view k_unknown = "Object contains a property that could not be validated";
  if (why.starts_with(k_unknown)) {
    const auto open = why.find(": '");
    if (open != std::string::npos && why.size() > open + 4) {
      why = "unknown field " + why.substr(open + 2, why.size() - open - 3);
    }
  }
  return out + ": " + why;
}

}  // namespace

tl::expected<json, body_problem> read_json_body(const http_request& request,
                                                std::size_t max_body_bytes, bool required) {
  using bad = tl::unexpected<body_problem>;
  if (request.body.size() > max_body_bytes) {
    return bad(body_problem{
        413, "the request body is larger than " + std::to_string(max_body_bytes) + " bytes"});
  }
  if (request.body.empty()) {
    if (required) return bad(body_problem{400, "a JSON body is required"});
    return json(nullptr);
  }
  const auto content_type = request.header("Content-Type");
  if (!content_type || !is_json_media_type(*content_type)) {
    return bad(
        body_problem{415, "the body must be JSON, sent with Content-Type: application/json"});
  }
  if (!is_valid_utf8(request.body)) return bad(body_problem{400, "body is not valid UTF-8"});
  if (nests_deeper_than(request.body, k_max_body_depth)) {
    return bad(body_problem{
        400, "body nests arrays and objects deeper than " + std::to_string(k_max_body_depth)});
  }
  try {
    return json::parse(request.body);
  } catch (const json::exception& e) {
    // what() is "[json.exception.parse_error.101] parse error at line 1, column 5: …": keep
    // what comes after the tag; it names the position.
    std::string why = e.what();
    if (const auto tag_end = why.find("] "); tag_end != std::string::npos) {
      why = why.substr(tag_end + 2);
    }
    return bad(body_problem{400, "body is not valid JSON: " + why});
  }
}

std::string_view request_schemas::file_name(body_kind kind) noexcept {
  switch (kind) {
    case body_kind::create_run:
      return "schemas/api/create_run.json";
    case body_kind::cancel_run:
      return "schemas/api/cancel_run.json";
    case body_kind::approve_run:
      return "schemas/api/approve_run.json";
  }
  return {};
}

result<request_schemas> request_schemas::load() {
  auto compile = [](body_kind kind) -> result<json_schema> {
    const auto name = file_name(kind);
    const auto text = embedded_file(name);
    if (!text) return fail(errc::internal, std::string(name) + " is not built into the binary");
    json doc = json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) return fail(errc::internal, std::string(name) + " is not JSON");
    auto schema = json_schema::compile(doc);
    if (!schema) return fail(errc::internal, std::string(name) + ": " + schema.error().message);
    return schema;
  };
  auto create = compile(body_kind::create_run);
  if (!create) return tl::unexpected(create.error());
  auto cancel = compile(body_kind::cancel_run);
  if (!cancel) return tl::unexpected(cancel.error());
  auto approve = compile(body_kind::approve_run);
  if (!approve) return tl::unexpected(approve.error());
  return request_schemas(std::move(*create), std::move(*cancel), std::move(*approve));
}

const json_schema& request_schemas::schema(body_kind kind) const noexcept {
  switch (kind) {
    case body_kind::create_run:
      return create_;
    case body_kind::cancel_run:
      return cancel_;
    case body_kind::approve_run:
      return approve_;
  }
  return create_;
}

result<void> request_schemas::validate(body_kind kind, const json& body) const {
  auto r = schema(kind).validate(body, 1);
  if (!r) return fail(errc::invalid_argument, readable_schema_error(r.error().message));
  return {};
}

const json& request_schemas::document(body_kind kind) const { return schema(kind).document(); }

}  // namespace grok::api
