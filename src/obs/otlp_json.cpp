#include "obs/otlp_json.h"

#include <nlohmann/json.hpp>

#include "core/version.h"

namespace grok::obs {
namespace {

using json = nlohmann::json;

std::string cut(const std::string& s) {
  if (s.size() <= k_max_attribute_chars) return s;
  std::size_t end = k_max_attribute_chars;
  // Step back over UTF-8 continuation bytes so that no character is split.
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0U) == 0x80U) --end;
  return s.substr(0, end);
}

json any_value(const attribute_value& v) {
  return std::visit(
      [](const auto& x) -> json {
        using t = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<t, std::string>) {
          return {{"stringValue", cut(x)}};
        } else if constexpr (std::is_same_v<t, std::int64_t>) {
          return {{"intValue", std::to_string(x)}};  // int64: a decimal string in proto3 JSON
        } else if constexpr (std::is_same_v<t, double>) {
          return {{"doubleValue", x}};
        } else if constexpr (std::is_same_v<t, bool>) {
          return {{"boolValue", x}};
        } else {
          json values = json::array();
          for (const auto& s : x) values.push_back({{"stringValue", cut(s)}});
          return {{"arrayValue", {{"values", std::move(values)}}}};
        }
      },
      v);
}

json key_values(const std::vector<attribute>& attributes) {
  json out = json::array();
  for (const auto& a : attributes) out.push_back({{"key", a.key}, {"value", any_value(a.value)}});
  return out;
}

json encode_span(const span& s) {
  json out = {{"traceId", s.trace_id},
              {"spanId", s.span_id},
              {"name", cut(s.name)},
              {"kind", static_cast<int>(s.kind)},
              {"startTimeUnixNano", std::to_string(s.start_unix_nano)},
              {"endTimeUnixNano", std::to_string(s.end_unix_nano)},
              {"attributes", key_values(s.attributes)}};
  if (!s.parent_span_id.empty()) out["parentSpanId"] = s.parent_span_id;
  json status = {{"code", static_cast<int>(s.status)}};
  if (s.status == status_code::error && !s.status_message.empty()) {
    status["message"] = cut(s.status_message);
  }
  out["status"] = std::move(status);
  return out;
}

}  // namespace

std::string encode_otlp_json(const std::vector<span>& spans, const resource_info& resource) {
  std::vector<attribute> resource_attributes = {{"service.name", resource.service_name},
                                                {"telemetry.sdk.name", std::string("grok")},
                                                {"telemetry.sdk.language", std::string("cpp")},
                                                {"telemetry.sdk.version", std::string(k_version)}};
  if (!resource.service_version.empty()) {
    resource_attributes.push_back({"service.version", resource.service_version});
  }
  json encoded = json::array();
  for (const auto& s : spans) encoded.push_back(encode_span(s));
  json scope = {{"name", "grok"}, {"version", std::string(k_version)}};
  json scope_spans = json::object({{"scope", std::move(scope)}, {"spans", std::move(encoded)}});
  json resource_spans =
      json::object({{"resource", {{"attributes", key_values(resource_attributes)}}},
                    {"scopeSpans", json::array({std::move(scope_spans)})}});
  json doc = json::object({{"resourceSpans", json::array({std::move(resource_spans)})}});
  // Names and values come from models, tools and operators: replace invalid UTF-8 rather
  // than fail the whole batch.
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace grok::obs
