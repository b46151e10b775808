// The OTLP/JSON encoding and the exporter against a loopback receiver: batches, the flush
// interval, flush on destroy, retries, and a collector that is down.
#include "obs/otlp_exporter.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/utf8.h"
#include "obs/metrics.h"
#include "obs/trace_context.h"
#include "tests_support/otlp_receiver.h"

namespace grok::obs {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
using testing::otlp_attribute;
using testing::otlp_receiver;
using testing::refused_port;

span sample_span(int i = 0) {
  span s;
  s.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  s.span_id = derived_span_id("span/" + std::to_string(i));
  s.parent_span_id = "00f067aa0ba902b7";
  s.name = "chat model-" + std::to_string(i);
  s.kind = span_kind::client;
  s.start_unix_nano = 1'700'000'000'123'000'000 + i;
  s.end_unix_nano = 1'700'000'000'456'000'000 + i;
  s.attributes = {{"gen_ai.request.model", std::string("m")},
                  {"gen_ai.usage.input_tokens", std::int64_t{9'007'199'254'740'993}},
                  {"ratio", 0.25},
                  {"flag", true},
                  {"gen_ai.response.finish_reasons", std::vector<std::string>{"stop", "length"}}};
  return s;
}

otlp_exporter_options options_for(const std::string& base_url) {
  otlp_exporter_options o;
  o.url = traces_url(base_url);
  o.resource = {"grok-test", "9.9.9"};
  o.max_queue_spans = 1000;
  o.max_batch_spans = 100;
  o.flush_interval = 60s;  // tests that want a timed flush lower it
  o.export_timeout = 5s;
  return o;
}

double dropped_metric() {
  auto& c = metrics().counter("grok_trace_spans_dropped_total", "", {"reason"});
  return c.value({"queue_full"}) + c.value({"export_failed"}) + c.value({"shutdown"}) +
         c.value({"rejected"});
}

std::size_t spans_in(const testing::otlp_request& r) {
  auto doc = json::parse(r.body);
  return doc["resourceSpans"][0]["scopeSpans"][0]["spans"].size();
}

TEST(otlp_json, encodes_an_export_trace_service_request) {
  auto root = sample_span(1);
  root.parent_span_id.clear();
  root.kind = span_kind::internal;
  auto failed = sample_span(2);
  failed.status = status_code::error;
  failed.status_message = "boom";
  auto doc = json::parse(encode_otlp_json({root, failed}, {"svc", "1.2.3"}));

  ASSERT_EQ(doc["resourceSpans"].size(), 1U);
  const auto& rs = doc["resourceSpans"][0];
  const auto& resource = rs["resource"]["attributes"];
  EXPECT_EQ(otlp_attribute(resource, "service.name"), json({{"stringValue", "svc"}}));
  EXPECT_EQ(otlp_attribute(resource, "service.version"), json({{"stringValue", "1.2.3"}}));
  EXPECT_EQ(otlp_attribute(resource, "telemetry.sdk.language"), json({{"stringValue", "cpp"}}));
  ASSERT_EQ(rs["scopeSpans"].size(), 1U);
  EXPECT_EQ(rs["scopeSpans"][0]["scope"]["name"], "grok");
  const auto& spans = rs["scopeSpans"][0]["spans"];
  ASSERT_EQ(spans.size(), 2U);

  const auto& a = spans[0];
  EXPECT_EQ(a["traceId"], root.trace_id);
  EXPECT_EQ(a["spanId"], root.span_id);
  EXPECT_FALSE(a.contains("parentSpanId")) << "a root span has no parent";
  EXPECT_EQ(a["name"], "chat model-1");
  EXPECT_EQ(a["kind"], 1) << "enums are integers in OTLP/JSON";
  EXPECT_EQ(a["startTimeUnixNano"], "1700000000123000001") << "fixed64 as a decimal string";
  EXPECT_EQ(a["endTimeUnixNano"], "1700000000456000001");
  EXPECT_EQ(a["status"], json({{"code", 0}}));
  const auto& attrs = a["attributes"];
  EXPECT_EQ(otlp_attribute(attrs, "gen_ai.request.model"), json({{"stringValue", "m"}}));
  EXPECT_EQ(otlp_attribute(attrs, "gen_ai.usage.input_tokens"),
            json({{"intValue", "9007199254740993"}}))
      << "int64 as a string: no precision lost to doubles";
  EXPECT_EQ(otlp_attribute(attrs, "ratio"), json({{"doubleValue", 0.25}}));
  EXPECT_EQ(otlp_attribute(attrs, "flag"), json({{"boolValue", true}}));
  EXPECT_EQ(otlp_attribute(attrs, "gen_ai.response.finish_reasons"),
            json::parse(
                R"({"arrayValue":{"values":[{"stringValue":"stop"},{"stringValue":"length"}]}})"));

  const auto& b = spans[1];
  EXPECT_EQ(b["parentSpanId"], "00f067aa0ba902b7");
  EXPECT_EQ(b["kind"], 3);
  EXPECT_EQ(b["status"], json({{"code", 2}, {"message", "boom"}}));
}

TEST(otlp_json, long_and_invalid_text_is_cut_and_replaced_not_fatal) {
  auto s = sample_span();
  std::string long_text;
  while (long_text.size() < 3 * k_max_attribute_chars) long_text += "é€";  // 2- and 3-byte
  s.attributes = {{"long", long_text}, {"bad", std::string("ok \xff\xfe end")}};
  s.name = "name \xc3";
  std::string encoded;
  ASSERT_NO_THROW(encoded = encode_otlp_json({s}, {}));
  auto doc = json::parse(encoded);
  const auto& attrs = doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"];
  const auto cut = otlp_attribute(attrs, "long")["stringValue"].get<std::string>();
  EXPECT_LE(cut.size(), k_max_attribute_chars);
  EXPECT_GT(cut.size(), k_max_attribute_chars - 3);
  EXPECT_TRUE(is_valid_utf8(cut)) << "cut at a character boundary";
  EXPECT_EQ(long_text.rfind(cut, 0), 0U);
  EXPECT_TRUE(is_valid_utf8(otlp_attribute(attrs, "bad")["stringValue"].get<std::string>()));
}

TEST(otlp_urls, traces_url_appends_the_signal_path_unless_present) {
  EXPECT_EQ(traces_url("http://collector:4318"), "http://collector:4318/v1/traces");
  EXPECT_EQ(traces_url("http://collector:4318/"), "http://collector:4318/v1/traces");
  EXPECT_EQ(traces_url("https://c.example/otlp"), "https://c.example/otlp/v1/traces");
  EXPECT_EQ(traces_url("https://c.example/otlp/v1/traces"), "https://c.example/otlp/v1/traces");
  EXPECT_EQ(traces_url("http://c:4318/v1/traces?tenant=a"), "http://c:4318/v1/traces?tenant=a");
  EXPECT_EQ(traces_url("http://c:4318/base?tenant=a"), "http://c:4318/base/v1/traces?tenant=a");
}

TEST(otlp_urls, loggable_url_drops_credentials_query_and_fragment) {
  EXPECT_EQ(loggable_url("https://user:secret@c.example:4318/v1/traces?token=abc#x"),
            "https://c.example:4318/v1/traces");
  EXPECT_EQ(loggable_url("http://c:4318"), "http://c:4318");
  EXPECT_EQ(loggable_url("http://tok@c:4318/p"), "http://c:4318/p");
  EXPECT_EQ(loggable_url("http://c:4318?key=secret"), "http://c:4318");
}

TEST(otlp_exporter, full_batches_go_out_at_once_and_the_rest_on_flush) {
  otlp_receiver receiver;
  auto o = options_for(receiver.base_url());
  o.max_batch_spans = 3;
  otlp_exporter exporter(o);
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(exporter.enqueue(sample_span(i)));
  ASSERT_TRUE(receiver.wait_for_spans([](const auto& s) { return s.size() >= 6; }, 10s));
  EXPECT_EQ(receiver.requests().size(), 2U) << "the seventh span waits for its interval";
  ASSERT_TRUE(exporter.flush(10s));
  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 3U);
  EXPECT_EQ(spans_in(requests[0]), 3U);
  EXPECT_EQ(spans_in(requests[1]), 3U);
  EXPECT_EQ(spans_in(requests[2]), 1U);
  for (const auto& r : requests) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.path, "/v1/traces");
    EXPECT_EQ(r.headers.at("content-type"), "application/json");
  }
  // Every span arrived once, in order.
  auto spans = receiver.spans();
  ASSERT_EQ(spans.size(), 7U);
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(spans[static_cast<std::size_t>(i)].span["spanId"],
              derived_span_id("span/" + std::to_string(i)));
    EXPECT_EQ(
        otlp_attribute(spans[static_cast<std::size_t>(i)].resource_attributes, "service.name"),
        json({{"stringValue", "grok-test"}}));
  }
  EXPECT_EQ(exporter.counts().exported, 7U);
  EXPECT_EQ(exporter.counts().dropped, 0U);
}

TEST(otlp_exporter, a_partial_batch_goes_out_after_the_flush_interval) {
  otlp_receiver receiver;
  auto o = options_for(receiver.base_url());
  o.flush_interval = 50ms;
  otlp_exporter exporter(o);
  ASSERT_TRUE(exporter.enqueue(sample_span(1)));
  ASSERT_TRUE(exporter.enqueue(sample_span(2)));
  EXPECT_TRUE(receiver.wait_for_spans([](const auto& s) { return s.size() == 2; }, 10s))
      << "no flush() call: the interval alone sends them";
}

TEST(otlp_exporter, destroying_it_sends_what_is_queued) {
  otlp_receiver receiver;
  {
    otlp_exporter exporter(options_for(receiver.base_url()));
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(exporter.enqueue(sample_span(i)));
    EXPECT_TRUE(receiver.requests().empty()) << "a 60 s interval and a 100-span batch";
  }
  EXPECT_EQ(receiver.spans().size(), 5U);
}

TEST(otlp_exporter, a_retryable_failure_is_retried_once_then_dropped) {
  otlp_receiver receiver;
  receiver.set_status(503);
  const auto dropped_before = dropped_metric();
  auto& failures = metrics().counter("grok_trace_export_failures_total", "");
  const auto failures_before = failures.value();
  otlp_exporter exporter(options_for(receiver.base_url()));
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(exporter.enqueue(sample_span(i)));
  ASSERT_TRUE(exporter.flush(20s));
  EXPECT_EQ(receiver.requests().size(), 2U) << "the first try and one retry";
  const auto c = exporter.counts();
  EXPECT_EQ(c.exported, 0U);
  EXPECT_EQ(c.dropped, 4U);
  EXPECT_EQ(c.failed_requests, 2U);
  EXPECT_EQ(dropped_metric() - dropped_before, 4.0);
  EXPECT_EQ(failures.value() - failures_before, 2.0);

  // The collector recovers: the next batch goes through.
  receiver.set_status(200);
  ASSERT_TRUE(exporter.enqueue(sample_span(9)));
  ASSERT_TRUE(exporter.flush(20s));
  EXPECT_EQ(exporter.counts().exported, 1U);
}

TEST(otlp_exporter, a_bad_request_is_not_retried) {
  otlp_receiver receiver;
  receiver.set_status(400);
  otlp_exporter exporter(options_for(receiver.base_url()));
  ASSERT_TRUE(exporter.enqueue(sample_span()));
  ASSERT_TRUE(exporter.flush(20s));
  EXPECT_EQ(receiver.requests().size(), 1U);
  EXPECT_EQ(exporter.counts().dropped, 1U);
}

TEST(otlp_exporter, collector_down_drops_and_counts_without_blocking_the_caller) {
  refused_port down;
  auto o = options_for(down.base_url());
  o.max_queue_spans = 16;
  o.max_batch_spans = 8;
  o.flush_interval = 10ms;
  const auto dropped_before = dropped_metric();
  const auto queue_full_before =
      metrics().counter("grok_trace_spans_dropped_total", "", {"reason"}).value({"queue_full"});
  constexpr int k_spans = 5000;
  otlp_exporter exporter(o);
  int refused = 0;
  for (int i = 0; i < k_spans; ++i) {
    if (!exporter.enqueue(sample_span(i))) ++refused;
  }
  // The queue holds 16: most of the 5000 were turned away at once instead of waiting.
  EXPECT_GT(refused, k_spans / 2);
  ASSERT_TRUE(exporter.flush(30s));
  const auto c = exporter.counts();
  EXPECT_EQ(c.exported, 0U);
  EXPECT_EQ(c.dropped, static_cast<std::uint64_t>(k_spans)) << "every span accounted for";
  EXPECT_GE(c.failed_requests, 2U);
  EXPECT_EQ(c.failed_requests % 2, 0U) << "each batch tried exactly twice";
  EXPECT_EQ(dropped_metric() - dropped_before, k_spans);
  EXPECT_EQ(
      metrics().counter("grok_trace_spans_dropped_total", "", {"reason"}).value({"queue_full"}) -
          queue_full_before,
      refused);
}

TEST(otlp_exporter, shutdown_with_the_collector_down_is_bounded_and_counts_the_loss) {
  refused_port down;
  auto o = options_for(down.base_url());
  o.export_timeout = 300ms;
  const auto dropped_before = dropped_metric();
  {
    otlp_exporter exporter(o);
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(exporter.enqueue(sample_span(i)));
  }
  EXPECT_EQ(dropped_metric() - dropped_before, 50.0);
}

}  // namespace
}  // namespace grok::obs
