// The model client against the scripted fake server over real HTTP: the fault matrix.
#include "llm/openai_client.h"

#include <gtest/gtest.h>

#include <thread>

#include "tests_support/fake_model_server.h"

namespace grok::llm {
namespace {

using grok::testing::fake_model_server;
using json = nlohmann::json;
using namespace std::chrono_literals;

client_settings settings_for(const fake_model_server& fake) {
  client_settings s;
  s.base_url = fake.base_url();
  s.api_key = "sk-test-secret";
  s.retry.backoff = {10ms, 50ms};
  s.timeouts.first_byte = 5s;
  s.timeouts.idle = 5s;
  s.timeouts.total = 60s;
  return s;
}

chat_request ask(const std::string& text, bool stream) {
  chat_request r;
  r.model = "fake-model";
  r.messages = {{"system", "be brief", {}, std::nullopt}, {"user", text, {}, std::nullopt}};
  r.stream = stream;
  return r;
}

json fault(const std::string& name, json options = json::object(), int times = -1) {
  json rule = {{"fault", name}, {"fault_options", std::move(options)}};
  if (times >= 0) rule["times"] = times;
  return rule;
}

class openai_client_test : public ::testing::TestWithParam<bool> {
 protected:
  bool streaming() const { return GetParam(); }
};

TEST_P(openai_client_test, answers_and_reports_usage) {
  fake_model_server fake(json{{"default", {{"content", "The answer is 4."}}}});
  openai_client client(settings_for(fake));
  std::string streamed;
  auto r = client.complete(ask("what is 2+2?", streaming()),
                           {{}, [&](std::string_view d) { streamed += d; }});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->content, "The answer is 4.");
  EXPECT_EQ(streamed, "The answer is 4.");
  EXPECT_EQ(r->finish_reason, "stop");
  ASSERT_TRUE(r->usage);
  EXPECT_GT(r->usage->prompt_tokens, 0);
  EXPECT_GT(r->usage->completion_tokens, 0);

  auto requests = fake.requests();
  ASSERT_EQ(requests.size(), 1U);
  const auto& body = requests[0]["body"];
  EXPECT_EQ(body["model"], "fake-model");
  EXPECT_EQ(body["messages"][1]["content"], "what is 2+2?");
  EXPECT_EQ(body["stream"], streaming());
  if (streaming()) {
    EXPECT_EQ(body["stream_options"]["include_usage"], true);
  }
  EXPECT_EQ(requests[0]["headers"]["authorization"], "Bearer sk-test-secret");
  EXPECT_EQ(requests[0]["path"], "/v1/chat/completions");
}

TEST_P(openai_client_test, sends_sampling_parameters_and_structured_output) {
  fake_model_server fake(json{{"default", {{"json", {{"steps", json::array()}}}}}});
  openai_client client(settings_for(fake));
  auto req = ask("plan", streaming());
  req.temperature = 0.2;
  req.max_tokens = 256;
  req.stop = {"</plan>"};
  req.seed = 42;
  req.json_schema = R"({"type":"object","properties":{"steps":{"type":"array"}}})";
  ASSERT_TRUE(client.complete(req, {}));
  req.output_style = structured_output_style::ollama_format;
  ASSERT_TRUE(client.complete(req, {}));
  auto requests = fake.requests();
  ASSERT_EQ(requests.size(), 2U);
  const auto& openai = requests[0]["body"];
  EXPECT_DOUBLE_EQ(openai["temperature"].get<double>(), 0.2);
  EXPECT_EQ(openai["max_tokens"], 256);
  EXPECT_EQ(openai["stop"][0], "</plan>");
  EXPECT_EQ(openai["seed"], 42);
  EXPECT_EQ(openai["response_format"]["type"], "json_schema");
  EXPECT_EQ(openai["response_format"]["json_schema"]["schema"]["type"], "object");
  EXPECT_FALSE(openai.contains("format"));
  const auto& ollama = requests[1]["body"];
  EXPECT_EQ(ollama["format"]["type"], "object");
  EXPECT_FALSE(ollama.contains("response_format"));

  req.json_schema = "{not json";
  auto bad = client.complete(req, {});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, failure::bad_request);
}

TEST_P(openai_client_test, structured_output_that_breaks_the_schema_is_typed_with_the_answer) {
  const char* schema =
      R"({"type":"object","required":["steps"],"properties":{"steps":{"type":"array","maxItems":2}}})";
  fake_model_server fake(json{
      {"rules",
       {{{"match", {{"contains", "too many"}}}, {"reply", {{"json", {{"steps", {1, 2, 3}}}}}}},
        {{"match", {{"contains", "prose"}}},
         {"reply", {{"content", "Sure! Here is the plan: step one..."}}}},
        {{"match", {{"contains", "wrong type"}}}, {"reply", {{"json", {{"steps", "none"}}}}}}}},
      {"default", {{"json", {{"steps", {1}}}}}}});
  openai_client client(settings_for(fake));
  auto req = ask("good plan", streaming());
  req.json_schema = schema;
  ASSERT_TRUE(client.complete(req, {}));
  for (const char* text : {"too many steps", "prose please", "wrong type"}) {
    req.messages.back().content = text;
    auto r = client.complete(req, {});
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error().kind, failure::invalid_output) << text;
    ASSERT_TRUE(r.error().partial) << text;
    EXPECT_FALSE(r.error().partial->content.empty());
  }
  EXPECT_EQ(fake.requests().size(), 4U);  // not retried: the engine repairs with the error
}

TEST_P(openai_client_test, reassembles_tool_calls) {
  fake_model_server fake(
      json{{"default",
            {{"tool_calls",
              {{{"name", "calculator"}, {"arguments", {{"expression", "(2+3)*4"}}}},
               {{"name", "http_get"}, {"arguments", {{"url", "http://example.org/"}}}}}}}}});
  openai_client client(settings_for(fake));
  auto r = client.complete(ask("use tools", streaming()), {});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->tool_calls.size(), 2U);
  EXPECT_EQ(r->tool_calls[0].name, "calculator");
  EXPECT_EQ(json::parse(r->tool_calls[0].arguments)["expression"], "(2+3)*4");
  EXPECT_EQ(r->tool_calls[1].id, "call_2");
  EXPECT_EQ(r->finish_reason, "tool_calls");
}

TEST_P(openai_client_test, rate_limit_is_retried_after_retry_after) {
  fake_model_server fake(
      json{{"rules", {fault("status", {{"status", 429}, {"retry_after", "1"}}, 1)}},
           {"default", {{"content", "finally"}}}});
  openai_client client(settings_for(fake));
  auto r = client.complete(ask("hi", streaming()), {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->content, "finally");
  EXPECT_EQ(fake.requests().size(), 2U);
}

TEST_P(openai_client_test, too_long_retry_after_fails_instead_of_waiting) {
  fake_model_server fake(
      json{{"rules", {fault("status", {{"status", 429}, {"retry_after", "3600"}})}}});
  openai_client client(settings_for(fake));
  auto r = client.complete(ask("hi", streaming()), {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, failure::rate_limited);
  EXPECT_EQ(r.error().retry_after, 3600s);
  EXPECT_EQ(fake.requests().size(), 1U);
}

TEST_P(openai_client_test, server_errors_are_retried_then_reported) {
  for (int status : {500, 502, 503, 504}) {
    fake_model_server fake(json{{"rules", {fault("status", {{"status", status}}, 2)}},
                                {"default", {{"content", "ok"}}}});
    openai_client client(settings_for(fake));
    auto r = client.complete(ask("hi", streaming()), {});
    ASSERT_TRUE(r) << status << ": " << r.error().message;
    EXPECT_EQ(fake.requests().size(), 3U) << status;
  }
  fake_model_server always(json{{"rules", {fault("status", {{"status", 503}})}}});
  openai_client client(settings_for(always));
  auto r = client.complete(ask("hi", streaming()), {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, failure::server_error);
  EXPECT_EQ(r.error().http_status, 503);
  EXPECT_EQ(r.error().attempts, 4);
  EXPECT_EQ(always.requests().size(), 4U);
}

TEST_P(openai_client_test, client_errors_are_not_retried) {
  struct expectation {
    int status;
    failure kind;
  };
  for (auto [status, kind] : std::vector<expectation>{{400, failure::bad_request},
                                                      {401, failure::auth},
                                                      {403, failure::auth},
                                                      {404, failure::bad_request}}) {
    fake_model_server fake(json{
        {"rules", {fault("status", {{"status", status}, {"message", "model 'x' not found"}})}}});
    openai_client client(settings_for(fake));
    auto r = client.complete(ask("hi", streaming()), {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, kind) << status;
    EXPECT_EQ(r.error().http_status, status);
    EXPECT_NE(r.error().message.find("model 'x' not found"), std::string::npos)
        << r.error().message;
    EXPECT_EQ(fake.requests().size(), 1U) << status;
    EXPECT_EQ(r.error().message.find("sk-test-secret"), std::string::npos);
  }
}

TEST_P(openai_client_test, invalid_json_is_a_bad_response) {
  fake_model_server fake(json{{"rules", {fault("invalid_json")}}});
  auto s = settings_for(fake);
  s.retry.max_attempts = 2;
  openai_client client(s);
  auto r = client.complete(ask("hi", streaming()), {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, failure::bad_response);
  EXPECT_EQ(fake.requests().size(), 2U);  // retried once: a garbled answer may be transient
}

TEST_P(openai_client_test, html_with_status_200_is_a_bad_response) {
  fake_model_server fake(json{{"rules", {fault("html_200")}}});
  auto s = settings_for(fake);
  s.retry.max_attempts = 1;
  openai_client client(s);
  auto r = client.complete(ask("hi", streaming()), {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, failure::bad_response);
  EXPECT_NE(r.error().message.find("text/html"), std::string::npos) << r.error().message;
}

TEST_P(openai_client_test, gigantic_body_is_cut_off_with_a_clear_error) {
  fake_model_server fake(json{{"rules", {fault("huge", {{"bytes", 8 * 1024 * 1024}})}}});
  auto s = settings_for(fake);
  s.retry.max_attempts = 1;
  s.max_response_bytes = 1024 * 1024;
  openai_client client(s);
  auto r = client.complete(ask("hi", streaming()), {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, failure::bad_response);
  EXPECT_NE(r.error().message.find("larger than 1048576 bytes"), std::string::npos)
      << r.error().message;
}

TEST_P(openai_client_test, invalid_utf8_in_content_is_replaced_not_fatal) {
  fake_model_server fake(
      json{{"rules", {fault("invalid_utf8")}}, {"default", {{"content", "fine"}}}});
  openai_client client(settings_for(fake));
  auto r = client.complete(ask("hi", streaming()), {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_NE(r->content.find("\xEF\xBF\xBD"), std::string::npos);
}

TEST_P(openai_client_test, missing_usage_is_reported_as_missing) {
  fake_model_server fake(json{{"default", {{"content", "no counts"}, {"usage", false}}}});
  openai_client client(settings_for(fake));
  auto r = client.complete(ask("hi", streaming()), {});
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->usage);
}

TEST_P(openai_client_test, length_and_content_filter_stops_are_typed) {
  fake_model_server fake(
      json{{"rules",
            {{{"match", {{"contains", "long"}}},
              {"reply", {{"content", "cut of"}, {"finish_reason", "length"}}}},
             {{"match", {{"contains", "rude"}}},
              {"reply", {{"content", ""}, {"finish_reason", "content_filter"}}}}}}});
  openai_client client(settings_for(fake));
  auto cut = client.complete(ask("long story", streaming()), {});
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().kind, failure::length);
  ASSERT_TRUE(cut.error().partial);
  EXPECT_EQ(cut.error().partial->content, "cut of");
  auto filtered = client.complete(ask("rude words", streaming()), {});
  ASSERT_FALSE(filtered);
  EXPECT_EQ(filtered.error().kind, failure::content_filter);
}

TEST_P(openai_client_test, hang_before_first_byte_times_out) {
  fake_model_server fake(json{{"rules", {fault("hang")}}});
  auto s = settings_for(fake);
  s.timeouts.first_byte = 300ms;
  openai_client client(s);
  auto r = client.complete(ask("hi", streaming()), {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, failure::timeout);
  EXPECT_NE(r.error().message.find("time-to-first-byte"), std::string::npos) << r.error().message;
  EXPECT_EQ(fake.requests().size(), 1U);  // timeouts are not retried
}

TEST_P(openai_client_test, cancellation_stops_a_call_in_flight) {
  fake_model_server fake(json{{"rules", {fault("hang")}}});
  openai_client client(settings_for(fake));
  std::stop_source stop;
  std::optional<llm_result<chat_response>> result;
  std::thread caller([&] {
    result = client.complete(ask("hi", streaming()), {stop.get_token(), nullptr});
  });
  // Wait (bounded) until the fake holds the request, then cancel: the call cannot finish
  // on its own, so returning proves the cancellation reached it.
  for (int i = 0; i < 2000 && fake.requests().empty(); ++i) std::this_thread::yield();
  ASSERT_FALSE(fake.requests().empty());
  stop.request_stop();
  caller.join();
  ASSERT_TRUE(result && !*result);
  EXPECT_EQ(result->error().kind, failure::cancelled);
}

TEST_P(openai_client_test, unreachable_server_says_what_to_start) {
  std::string url;
  {
    fake_model_server gone;
    url = gone.base_url();
    gone.stop();
  }
  client_settings s;
  s.base_url = url;
  s.retry.backoff = {1ms, 5ms};
  openai_client client(s);
  auto r = client.complete(ask("hi", streaming()), {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, failure::unreachable);
  EXPECT_EQ(r.error().attempts, 4);
  EXPECT_NE(r.error().message.find("GROK_LLM_BASE_URL"), std::string::npos) << r.error().message;
}

INSTANTIATE_TEST_SUITE_P(modes, openai_client_test, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "streaming" : "plain";
                         });

// Faults that only exist in streams.

TEST(openai_client_stream, reset_before_any_content_is_retried) {
  fake_model_server fake(json{{"rules", {fault("reset_mid_stream", {{"after_chunks", 1}}, 1)}},
                              {"default", {{"content", "second time lucky"}}}});
  openai_client client(settings_for(fake));
  auto r = client.complete(ask("hi", true), {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->content, "second time lucky");
  EXPECT_EQ(fake.requests().size(), 2U);
}

TEST(openai_client_stream, reset_after_content_was_streamed_is_an_error_not_a_replay) {
  fake_model_server fake(json{{"rules",
                               {{{"fault", "reset_mid_stream"},
                                 {"fault_options", {{"after_chunks", 3}}},
                                 {"reply", {{"content", "partial answer here"}}}}}}});
  openai_client client(settings_for(fake));
  std::string streamed;
  auto r = client.complete(ask("hi", true), {{}, [&](std::string_view d) { streamed += d; }});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, failure::unreachable);
  EXPECT_FALSE(streamed.empty());
  EXPECT_EQ(fake.requests().size(), 1U);
}

TEST(openai_client_stream, stream_without_done_but_with_finish_is_complete) {
  fake_model_server fake(
      json{{"rules", {{{"fault", "no_done"}, {"reply", {{"content", "all here"}}}}}}});
  openai_client client(settings_for(fake));
  auto r = client.complete(ask("hi", true), {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->content, "all here");
}

TEST(openai_client_stream, stream_cut_short_is_retried_then_a_bad_response) {
  fake_model_server fake(json{{"rules", {fault("truncated")}}});
  auto s = settings_for(fake);
  s.retry.max_attempts = 2;
  openai_client client(s);
  auto r = client.complete(ask("hi", true), {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, failure::bad_response);
  EXPECT_NE(r.error().message.find("ended before"), std::string::npos);
  EXPECT_EQ(fake.requests().size(), 2U);
}

TEST(openai_client_stream, slow_trickle_within_the_idle_limit_succeeds) {
  fake_model_server fake(json{{"rules",
                               {{{"fault", "trickle"},
                                 {"fault_options", {{"byte_delay_ms", 1}}},
                                 {"reply", {{"content", "slow"}, {"usage", false}}}}}}});
  openai_client client(settings_for(fake));
  auto r = client.complete(ask("hi", true), {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->content, "slow");
}

TEST(openai_client_stream, stall_mid_stream_hits_the_idle_limit) {
  fake_model_server fake(json{{"rules", {fault("hang_mid_stream", {{"after_chunks", 2}})}}});
  auto s = settings_for(fake);
  s.timeouts.idle = 300ms;
  openai_client client(s);
  auto r = client.complete(ask("hi", true), {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, failure::timeout);
  EXPECT_NE(r.error().message.find("idle"), std::string::npos) << r.error().message;
}

TEST(openai_client_stream, error_object_in_the_stream_is_a_server_error) {
  fake_model_server fake(json{{"rules", {fault("error_in_stream", {{"after_chunks", 1}})}}});
  auto s = settings_for(fake);
  s.retry.max_attempts = 1;
  openai_client client(s);
  auto r = client.complete(ask("hi", true), {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, failure::server_error);
  EXPECT_NE(r.error().message.find("fake overload"), std::string::npos);
}

TEST(retry_after, seconds_and_http_dates) {
  const auto now = from_unix_ms(1'700'000'000'000);
  EXPECT_EQ(parse_retry_after("5", now), 5s);
  EXPECT_EQ(parse_retry_after(" 0 ", now), 0s);
  EXPECT_FALSE(parse_retry_after("", now));
  EXPECT_FALSE(parse_retry_after("soon", now));
  EXPECT_FALSE(parse_retry_after("-3", now));
  EXPECT_EQ(parse_retry_after("99999999999", now), 86'400s);
  // 1700000000 is Tue, 14 Nov 2023 22:13:20 GMT.
  EXPECT_EQ(parse_retry_after("Tue, 14 Nov 2023 22:13:30 GMT", now), 10s);
  EXPECT_EQ(parse_retry_after("Tue, 14 Nov 2023 22:00:00 GMT", now), 0s);
}

}  // namespace
}  // namespace grok::llm
