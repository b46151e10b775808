#include "llm/sse_parser.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "llm/stream_accumulator.h"

namespace grok::llm {
namespace {

std::vector<sse_event> parse_all(std::string_view bytes) {
  sse_parser p;
  std::vector<sse_event> out;
  EXPECT_TRUE(p.feed(bytes, out));
  p.finish(out);
  return out;
}

TEST(sse_parser, data_lines_with_and_without_a_space) {
  auto events = parse_all("data: one\n\ndata:two\n\ndata:  three\n\n");
  ASSERT_EQ(events.size(), 3U);
  EXPECT_EQ(events[0].data, "one");
  EXPECT_EQ(events[1].data, "two");
  EXPECT_EQ(events[2].data, " three");  // only one space is removed
}

TEST(sse_parser, lf_crlf_and_cr_line_endings) {
  auto events = parse_all("data: a\r\n\r\ndata: b\r\rdata: c\n\n");
  ASSERT_EQ(events.size(), 3U);
  EXPECT_EQ(events[0].data, "a");
  EXPECT_EQ(events[1].data, "b");
  EXPECT_EQ(events[2].data, "c");
}

TEST(sse_parser, comments_and_unknown_fields_are_ignored) {
  auto events = parse_all(": keep-alive\n\n: ping\nretry: 100\nfoo: bar\ndata: x\n\n");
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].data, "x");
}

TEST(sse_parser, multi_line_data_is_joined_with_newlines) {
  auto events = parse_all("event: update\nid: 7\ndata: {\"a\":\ndata: 1}\n\n");
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].data, "{\"a\":\n1}");
  EXPECT_EQ(events[0].event, "update");
  EXPECT_EQ(events[0].id, "7");
}

TEST(sse_parser, crlf_split_across_chunks_is_one_line_ending) {
  sse_parser p;
  std::vector<sse_event> out;
  ASSERT_TRUE(p.feed("data: a\r", out));
  ASSERT_TRUE(p.feed("\n\r", out));
  ASSERT_TRUE(p.feed("\ndata: b\r\n\r\n", out));
  ASSERT_EQ(out.size(), 2U);
  EXPECT_EQ(out[0].data, "a");
  EXPECT_EQ(out[1].data, "b");
}

TEST(sse_parser, stream_ending_without_a_blank_line_still_yields_the_event) {
  auto events = parse_all("data: last");
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].data, "last");
  EXPECT_TRUE(parse_all("").empty());
  EXPECT_TRUE(parse_all("\n\n\n").empty());
}

TEST(sse_parser, oversized_line_and_event_are_errors_not_memory_growth) {
  sse_parser p({.max_line_bytes = 100, .max_event_bytes = 1000});
  std::vector<sse_event> out;
  auto r = p.feed("data: " + std::string(200, 'x'), out);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::invalid_argument);
  EXPECT_FALSE(p.feed("data: ok\n\n", out));  // stays failed

  sse_parser q({.max_line_bytes = 100, .max_event_bytes = 1000});
  bool failed = false;
  for (int i = 0; i < 50 && !failed; ++i)
    failed = !q.feed("data: " + std::string(50, 'y') + "\n", out);
  EXPECT_TRUE(failed);
}

TEST(sse_parser, binary_and_invalid_utf8_pass_through_untouched) {
  std::string payload = "data: \xff\xfe\x01z\n\n";
  auto events = parse_all(payload);
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].data, "\xff\xfe\x01z");
}

// A realistic OpenAI-style stream: role chunk, content, a tool call whose arguments arrive in
// fragments, the finish chunk, the usage chunk, [DONE].
std::string sample_stream(const std::string& eol) {
  const std::vector<std::string> chunks = {
      R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]})",
      R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]})",
      R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"lo \u00e9"},"finish_reason":null}]})",
      R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"calculator","arguments":""}}]},"finish_reason":null}]})",
      R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"expr"}}]},"finish_reason":null}]})",
      R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_2","type":"function","function":{"name":"http_get","arguments":"{}"}}]},"finish_reason":null}]})",
      R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"ession\": \"2+2\"}"}}]},"finish_reason":null}]})",
      R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]})",
      R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":7,"total_tokens":19}})",
  };
  std::string out = ": connected" + eol + eol;
  for (const auto& c : chunks) out += "data: " + c + eol + eol;
  out += "data: [DONE]" + eol + eol;
  return out;
}

chat_response assemble(const std::vector<sse_event>& events, std::string* streamed = nullptr) {
  stream_accumulator acc([&](std::string_view piece) {
    if (streamed != nullptr) streamed->append(piece);
  });
  for (const auto& e : events) {
    if (e.data == "[DONE]") break;
    EXPECT_TRUE(acc.add_chunk(e.data)) << e.data;
  }
  return acc.response();
}

TEST(stream_accumulator, reassembles_content_tool_calls_and_usage) {
  std::string streamed;
  auto r = assemble(parse_all(sample_stream("\n")), &streamed);
  EXPECT_EQ(r.id, "c1");
  EXPECT_EQ(r.content, "Hello \xc3\xa9");
  EXPECT_EQ(streamed, r.content);
  ASSERT_EQ(r.tool_calls.size(), 2U);
  EXPECT_EQ(r.tool_calls[0].id, "call_1");
  EXPECT_EQ(r.tool_calls[0].name, "calculator");
  EXPECT_EQ(r.tool_calls[0].arguments, R"({"expression": "2+2"})");
  EXPECT_EQ(r.tool_calls[1].name, "http_get");
  EXPECT_EQ(r.finish_reason, "tool_calls");
  ASSERT_TRUE(r.usage);
  EXPECT_EQ(r.usage->prompt_tokens, 12);
  EXPECT_EQ(r.usage->completion_tokens, 7);
}

TEST(stream_accumulator, no_usage_report_means_no_usage) {
  stream_accumulator acc;
  ASSERT_TRUE(
      acc.add_chunk(R"({"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"stop"}]})"));
  EXPECT_FALSE(acc.response().usage);
}

TEST(stream_accumulator, usage_chunk_with_null_or_missing_choices) {
  stream_accumulator acc;
  ASSERT_TRUE(
      acc.add_chunk(R"({"choices":null,"usage":{"prompt_tokens":3,"completion_tokens":4}})"));
  ASSERT_TRUE(acc.add_chunk(R"({"usage":{"prompt_tokens":5,"completion_tokens":6}})"));
  ASSERT_TRUE(acc.response().usage);
  EXPECT_EQ(acc.response().usage->prompt_tokens, 5);
}

TEST(stream_accumulator, hostile_and_odd_chunks) {
  stream_accumulator acc;
  EXPECT_EQ(acc.add_chunk("not json").error().code, errc::invalid_argument);
  EXPECT_EQ(acc.add_chunk("[1,2]").error().code, errc::invalid_argument);
  EXPECT_EQ(acc.add_chunk("").error().code, errc::invalid_argument);
  // Wrong types are ignored field by field, unknown fields too.
  EXPECT_TRUE(acc.add_chunk(
      R"({"choices":[{"delta":{"content":5,"tool_calls":"x"}},7],"usage":"lots","new_field":{}})"));
  EXPECT_TRUE(acc.add_chunk(R"({"choices":[{"index":1,"delta":{"content":"other choice"}}]})"));
  EXPECT_TRUE(acc.add_chunk(
      R"({"choices":[{"delta":{"tool_calls":[{"function":{"name":"f","arguments":1}}]}}]})"));
  auto r = acc.response();
  EXPECT_EQ(r.content, "");
  EXPECT_FALSE(r.usage);
  ASSERT_EQ(r.tool_calls.size(), 1U);
  EXPECT_EQ(r.tool_calls[0].name, "f");
  auto err = acc.add_chunk(R"({"error":{"message":"model overloaded"}})");
  ASSERT_FALSE(err);
  EXPECT_EQ(err.error().code, errc::unavailable);
  EXPECT_NE(err.error().message.find("model overloaded"), std::string::npos);
}

// The same byte stream cut at random boundaries gives the same messages, tool calls and
// usage, whatever the line endings.
RC_GTEST_PROP(sse_parser_property, random_cuts_give_the_same_result, ()) {
  const auto eol = *rc::gen::element(std::string("\n"), std::string("\r\n"), std::string("\r"));
  const auto stream = sample_stream(eol);
  const auto whole = assemble(parse_all(stream));

  auto cuts = *rc::gen::container<std::vector<std::size_t>>(
      rc::gen::inRange<std::size_t>(0, stream.size() + 1));
  std::sort(cuts.begin(), cuts.end());
  sse_parser p;
  std::vector<sse_event> events;
  std::size_t at = 0;
  for (auto cut : cuts) {
    RC_ASSERT(p.feed(std::string_view(stream).substr(at, cut - at), events).has_value());
    at = cut;
  }
  RC_ASSERT(p.feed(std::string_view(stream).substr(at), events).has_value());
  p.finish(events);
  const auto pieces = assemble(events);
  RC_ASSERT(pieces.content == whole.content);
  RC_ASSERT(pieces.finish_reason == whole.finish_reason);
  RC_ASSERT(pieces.tool_calls.size() == whole.tool_calls.size());
  for (std::size_t i = 0; i < pieces.tool_calls.size(); ++i) {
    RC_ASSERT(pieces.tool_calls[i].id == whole.tool_calls[i].id);
    RC_ASSERT(pieces.tool_calls[i].name == whole.tool_calls[i].name);
    RC_ASSERT(pieces.tool_calls[i].arguments == whole.tool_calls[i].arguments);
  }
  RC_ASSERT(pieces.usage.has_value());
  RC_ASSERT(pieces.usage->prompt_tokens == 12);
  RC_ASSERT(pieces.usage->completion_tokens == 7);
  RC_ASSERT(events.size() == 10U);  // nine chunks and [DONE]
}

}  // namespace
}  // namespace grok::llm
