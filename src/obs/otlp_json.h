// Finished spans as plain values, and their OTLP/JSON encoding: the body of an OTLP/HTTP
// POST to /v1/traces (an ExportTraceServiceRequest in the proto3 JSON mapping with OTLP's
// deviations: trace and span ids as hex, enums as integers, 64-bit integers as decimal
// strings; opentelemetry-proto docs/specification.md, "JSON Protobuf Encoding").
//
// Thread-safety: plain values and a pure function.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace grok::obs {

// SpanKind of opentelemetry/proto/trace/v1/trace.proto.
enum class span_kind : int { unspecified = 0, internal = 1, server = 2, client = 3 };
// Status.StatusCode.
enum class status_code : int { unset = 0, ok = 1, error = 2 };

using attribute_value =
    std::variant<std::string, std::int64_t, double, bool, std::vector<std::string>>;

struct attribute {
  std::string key;
  attribute_value value;
};

struct span {
  std::string trace_id;        // 32 lowercase hex
  std::string span_id;         // 16 lowercase hex
  std::string parent_span_id;  // 16 lowercase hex; empty for a trace's root span
  std::string name;
  span_kind kind = span_kind::internal;
  std::int64_t start_unix_nano = 0;
  std::int64_t end_unix_nano = 0;  // >= start
  std::vector<attribute> attributes;
  status_code status = status_code::unset;
  std::string status_message;  // only with status_code::error
};

// What the spans describe: resource attributes service.name, service.version and the
// telemetry.sdk.* trio, and the instrumentation scope "grok".
struct resource_info {
  std::string service_name = "grok";
  std::string service_version;
};

// String attribute values and status messages longer than this are cut (at a UTF-8
// character boundary) when encoded, so that one span stays small.
inline constexpr std::size_t k_max_attribute_chars = 1024;

// One ExportTraceServiceRequest holding `spans` under one resource and one scope.
// Invalid UTF-8 in names and values is replaced, never an error.
[[nodiscard]] std::string encode_otlp_json(const std::vector<span>& spans,
                                           const resource_info& resource);

}  // namespace grok::obs
