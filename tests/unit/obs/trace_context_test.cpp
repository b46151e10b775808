// W3C traceparent parsing and formatting, and the ids GROK makes for its spans.
#include "obs/trace_context.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <set>

namespace grok::obs {
namespace {

const std::string k_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
const std::string k_span = "00f067aa0ba902b7";
const std::string k_valid = "00-" + k_trace + "-" + k_span + "-01";

TEST(trace_context, valid_header_is_parsed) {
  auto c = parse_traceparent(k_valid);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->trace_id, k_trace);
  EXPECT_EQ(c->span_id, k_span);
  EXPECT_EQ(c->flags, 1);
  EXPECT_TRUE(c->sampled());
  EXPECT_EQ(format_traceparent(*c), k_valid);

  auto unsampled = parse_traceparent("00-" + k_trace + "-" + k_span + "-00");
  ASSERT_TRUE(unsampled);
  EXPECT_FALSE(unsampled->sampled());
  auto other_flags = parse_traceparent("00-" + k_trace + "-" + k_span + "-f3");
  ASSERT_TRUE(other_flags);
  EXPECT_EQ(other_flags->flags, 0xf3);
  EXPECT_TRUE(other_flags->sampled());
}

TEST(trace_context, optional_whitespace_around_the_value_is_ignored) {
  auto c = parse_traceparent(" \t" + k_valid + "  ");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->trace_id, k_trace);
}

TEST(trace_context, invalid_headers_are_refused) {
  const std::vector<std::string> invalid = {
      "",
      "00",
      k_valid.substr(0, 54),                                    // one short
      k_valid + "-",                                            // version 00: exactly 55
      k_valid + "0",                                            //
      "00-" + std::string(32, '0') + "-" + k_span + "-01",      // all-zero trace id
      "00-" + k_trace + "-" + std::string(16, '0') + "-01",     // all-zero span id
      "ff-" + k_trace + "-" + k_span + "-01",                   // version ff
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-" + k_span + "-01",  // uppercase
      "00-" + k_trace + "-00F067AA0BA902B7-01",                 //
      "0A-" + k_trace + "-" + k_span + "-01",                   //
      "00-" + k_trace + "-" + k_span + "-0G",                   // non-hex
      "00-" + k_trace.substr(0, 31) + "g-" + k_span + "-01",    //
      "00_" + k_trace + "-" + k_span + "-01",                   // separators
      "00-" + k_trace + "_" + k_span + "-01",                   //
      "00-" + k_trace + "-" + k_span + "_01",                   //
      "00-" + k_trace + "0-" + k_span.substr(1) + "-01",        // shifted fields
      ".0-" + k_trace + "-" + k_span + "-01",                   //
      "00-" + k_trace + "-" + k_span + "-01\r\nX-Injected: 1",  // header smuggling
      std::string("00-") + k_trace + "-" + k_span + std::string("-0\0", 3),  // NUL
  };
  for (const auto& h : invalid) EXPECT_FALSE(parse_traceparent(h)) << "accepted: " << h;
}

TEST(trace_context, a_later_version_is_read_by_its_first_fields) {
  auto longer = parse_traceparent("cc-" + k_trace + "-" + k_span + "-01-what-the-future-holds");
  ASSERT_TRUE(longer);
  EXPECT_EQ(longer->trace_id, k_trace);
  EXPECT_EQ(format_traceparent(*longer), k_valid) << "formatted as version 00";
  EXPECT_TRUE(parse_traceparent("cc-" + k_trace + "-" + k_span + "-01"));
  // But the fourth field must end where version 00's does.
  EXPECT_FALSE(parse_traceparent("cc-" + k_trace + "-" + k_span + "-01x"));
}

TEST(trace_context, caller_traceparent_takes_exactly_one_valid_header) {
  using headers = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(caller_traceparent(headers{{"TraceParent", k_valid}}), k_valid);
  EXPECT_EQ(caller_traceparent(headers{{"traceparent", " " + k_valid}}), k_valid);
  EXPECT_FALSE(caller_traceparent(headers{}));
  EXPECT_FALSE(caller_traceparent(headers{{"traceparent", "nonsense"}}));
  EXPECT_FALSE(caller_traceparent(headers{{"traceparent", k_valid}, {"Traceparent", k_valid}}))
      << "two traceparent headers: both are ignored";
  EXPECT_EQ(caller_traceparent(headers{{"tracestate", "a=b"}, {"traceparent", k_valid}}), k_valid);
}

TEST(trace_context, random_ids_are_valid_and_distinct) {
  std::set<std::string> traces;
  std::set<std::string> spans;
  for (int i = 0; i < 200; ++i) {
    auto t = random_trace_id();
    auto s = random_span_id();
    EXPECT_TRUE(is_trace_id(t)) << t;
    EXPECT_TRUE(is_span_id(s)) << s;
    traces.insert(t);
    spans.insert(s);
  }
  EXPECT_EQ(traces.size(), 200U);
  EXPECT_EQ(spans.size(), 200U);
}

TEST(trace_context, derived_ids_are_stable_valid_and_differ_by_name) {
  EXPECT_EQ(derived_span_id("grok.run/run_1"), derived_span_id("grok.run/run_1"));
  EXPECT_NE(derived_span_id("grok.run/run_1"), derived_span_id("grok.run/run_2"));
  EXPECT_TRUE(is_span_id(derived_span_id("x")));
  EXPECT_TRUE(is_trace_id(derived_trace_id("x")));
  EXPECT_EQ(derived_trace_id("grok.trace/run_1"), derived_trace_id("grok.trace/run_1"));
  EXPECT_NE(derived_trace_id("grok.trace/run_1"), derived_trace_id("grok.trace/run_2"));
}

TEST(trace_context, id_checks) {
  EXPECT_TRUE(is_trace_id(k_trace));
  EXPECT_FALSE(is_trace_id(k_span));
  EXPECT_FALSE(is_trace_id(std::string(32, '0')));
  EXPECT_TRUE(is_span_id(k_span));
  EXPECT_FALSE(is_span_id("00F067AA0BA902B7"));
  EXPECT_FALSE(is_span_id(""));
}

rc::Gen<std::string> hex_text(std::size_t n) {
  return rc::gen::container<std::string>(n, rc::gen::elementOf(std::string("0123456789abcdef")));
}

RC_GTEST_PROP(trace_context_property, format_of_parse_round_trips, ()) {
  const auto trace = *hex_text(32);
  const auto span = *hex_text(16);
  const auto flags = *hex_text(2);
  const auto header = "00-" + trace + "-" + span + "-" + flags;
  auto parsed = parse_traceparent(header);
  const bool zero = trace == std::string(32, '0') || span == std::string(16, '0');
  RC_ASSERT(parsed.has_value() == !zero);
  if (parsed) {
    RC_ASSERT(format_traceparent(*parsed) == header);
    RC_ASSERT(parse_traceparent(format_traceparent(*parsed)) == parsed);
  }
}

RC_GTEST_PROP(trace_context_property, arbitrary_text_never_crashes_and_only_valid_is_accepted,
              (const std::string& text)) {
  auto parsed = parse_traceparent(text);
  if (parsed) {
    RC_ASSERT(is_trace_id(parsed->trace_id));
    RC_ASSERT(is_span_id(parsed->span_id));
  }
}

RC_GTEST_PROP(trace_context_property, one_changed_character_of_a_valid_header_is_handled,
              (std::uint8_t position, char replacement)) {
  auto header = k_valid;
  const auto i = static_cast<std::size_t>(position) % header.size();
  header[i] = replacement;
  auto parsed = parse_traceparent(header);
  if (parsed) {
    // Only a change that keeps the header well-formed is accepted, and then it reads back.
    RC_ASSERT(format_traceparent(*parsed).size() == 55U);
    RC_ASSERT(is_trace_id(parsed->trace_id) && is_span_id(parsed->span_id));
    if (i >= 2) RC_ASSERT(format_traceparent(*parsed) == header);
  } else {
    const bool lower_hex =
        (replacement >= '0' && replacement <= '9') || (replacement >= 'a' && replacement <= 'f');
    const bool in_field = i != 2 && i != 35 && i != 52;
    // A lowercase hex digit inside a field keeps it valid, unless it made the version ff.
    RC_ASSERT(!(lower_hex && in_field && i >= 2));
  }
}

}  // namespace
}  // namespace grok::obs
