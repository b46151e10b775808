// Record a run's model calls against the fake server, stop the server, replay them.
#include "llm/recorded_models.h"

#include <gtest/gtest.h>

#include "core/ids.h"
#include "llm/call_record.h"
#include "llm/openai_client.h"
#include "store/open_store.h"
#include "tests_support/fake_model_server.h"

namespace grok::llm {
namespace {

using json = nlohmann::json;
using grok::testing::fake_model_server;
using grok::testing::temp_dir;

chat_request ask(const std::string& text, bool stream = false) {
  chat_request r;
  r.model = "fake-model";
  r.messages = {{"user", text, {}, std::nullopt}};
  r.temperature = 0.2;
  r.stream = stream;
  return r;
}

TEST(request_hash, ignores_streaming_but_not_content) {
  auto a = request_hash(ask("hello", false));
  auto b = request_hash(ask("hello", true));
  auto c = request_hash(ask("hello!", false));
  auto d = ask("hello");
  d.temperature = 0.3;
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(a->size(), 64U);
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *c);
  EXPECT_NE(*a, *request_hash(d));
}

TEST(response_json, round_trips_and_rejects_garbage) {
  chat_response r{"id1",           "m",
                  "text \xc3\xa9", {{"call_1", "calculator", R"({"expression":"1+1"})"}},
                  "tool_calls",    token_usage{3, 4}};
  auto back = response_from_json(response_to_json(r));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->content, r.content);
  EXPECT_EQ(back->tool_calls[0].arguments, r.tool_calls[0].arguments);
  EXPECT_EQ(back->usage->completion_tokens, 4);
  r.usage.reset();
  EXPECT_FALSE(response_from_json(response_to_json(r))->usage);
  for (const char* bad :
       {"", "null", "[]", R"({"content":1})", R"({"content":"x","finish_reason":"stop"})",
        R"({"content":"x","finish_reason":"stop","tool_calls":[1]})"}) {
    auto parsed = response_from_json(bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error().code, errc::corrupt);
  }
}

TEST(recorded_models, replay_answers_a_recorded_run_without_a_model_server) {
  temp_dir dir;
  auto opened = store::open_store({.url = dir.file("grok.db")});
  ASSERT_TRUE(opened);
  auto& st = **opened;
  store::run_record run;
  run.id = new_id("run", st.store_clock().now());
  run.input = "task";
  run.created_at = st.store_clock().now();
  ASSERT_TRUE(st.transact([&](store::transaction& tx) { return tx.insert_run(run); }));

  const json script = {
      {"rules",
       {{{"match", {{"contains", "plan"}}},
         {"reply", {{"json", {{"steps", {{{"id", "E1"}, {"tool", "calculator"}}}}}}}}},
        {{"match", {{"contains", "tools"}}},
         {"reply",
          {{"tool_calls", {{{"name", "calculator"}, {"arguments", {{"expression", "6*7"}}}}}}}}},
        {{"match", {{"contains", "secret"}}},
         {"fault", "status"},
         {"fault_options", {{"status", 401}}}}}},
      {"default", {{"content", "The answer is 42."}}}};
  std::vector<chat_request> requests = {ask("make a plan"), ask("use tools", true),
                                        ask("solve it", true), ask("secret question")};
  std::vector<llm_result<chat_response>> recorded;
  {
    fake_model_server fake(script);
    client_settings s;
    s.base_url = fake.base_url();
    openai_client client(s);
    recording_model recorder(client, st, "openai");
    call_options opts;
    opts.run_id = run.id;
    opts.role = "planner";
    for (const auto& r : requests) recorded.push_back(recorder.complete(r, opts));
    fake.stop();  // from here on, nothing answers on that port
  }
  ASSERT_TRUE(recorded[0] && recorded[1] && recorded[2]);
  ASSERT_FALSE(recorded[3]);

  auto calls = st.list_llm_calls(run.id);
  ASSERT_TRUE(calls);
  ASSERT_EQ(calls->size(), 4U);
  EXPECT_EQ((*calls)[0].role, "planner");
  EXPECT_EQ((*calls)[0].status, "ok");
  EXPECT_TRUE((*calls)[0].tokens_in);
  EXPECT_EQ((*calls)[3].status, "error");
  EXPECT_NE((*calls)[3].error->find("auth"), std::string::npos);

  replay_model replay(st, run.id);
  for (std::size_t i = 0; i < 3; ++i) {
    std::string streamed;
    call_options opts;
    opts.on_delta = [&](std::string_view d) { streamed += d; };
    auto again = replay.complete(requests[i], opts);
    ASSERT_TRUE(again) << i << ": " << again.error().message;
    EXPECT_EQ(again->content, recorded[i]->content) << i;
    EXPECT_EQ(streamed, recorded[i]->content) << i;
    ASSERT_EQ(again->tool_calls.size(), recorded[i]->tool_calls.size()) << i;
    for (std::size_t k = 0; k < again->tool_calls.size(); ++k) {
      EXPECT_EQ(again->tool_calls[k].arguments, recorded[i]->tool_calls[k].arguments);
    }
    EXPECT_EQ(again->finish_reason, recorded[i]->finish_reason);
    ASSERT_EQ(again->usage.has_value(), recorded[i]->usage.has_value());
  }
  // A failed call has no answer to replay; an unseen request fails loudly.
  auto failed = replay.complete(requests[3], {});
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().kind, failure::not_recorded);
  auto unseen = replay.complete(ask("something new"), {});
  ASSERT_FALSE(unseen);
  EXPECT_EQ(unseen.error().kind, failure::not_recorded);
  EXPECT_NE(unseen.error().message.find("diverged"), std::string::npos);
  // Scoped to another run, nothing matches.
  replay_model other(st, std::string("run_other"));
  EXPECT_EQ(other.complete(requests[0], {}).error().kind, failure::not_recorded);
}

}  // namespace
}  // namespace grok::llm
