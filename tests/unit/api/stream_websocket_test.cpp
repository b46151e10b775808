// The WebSocket protocol of the stream hub (api/stream_hub.h) against a real SQLite store:
// subscribe / after / unsubscribe / ping, errors, visibility, "*".
#include "api/stream_hub.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "unit/api/stream_test_client.h"

namespace grok::api {
namespace {

using json = nlohmann::json;
using stream_testing::client;
using stream_testing::one_to;
using stream_testing::stream_hub_test;

// --- WebSocket ---

TEST_F(stream_hub_test, websocket_subscribe_after_then_live_then_unsubscribe) {
  insert_run("run_a", "key_a");
  append("run_a", 5);
  stream_hub hub(st(), {});
  client c(hub.open_websocket({.key_id = "key_a", .admin = false}));
  client sentinel(hub.open_websocket({.key_id = "key_a", .admin = false}));
  EXPECT_EQ(c.session().kind(), stream_kind::websocket);
  EXPECT_EQ(c.session().heartbeat(), "");
  c.send({{"subscribe", "run_a"}, {"after", 2}});
  c.drain();
  EXPECT_EQ(c.ws_seqs(), one_to(3, 5));
  auto first = c.parsed().front();
  EXPECT_EQ(first["event"], "step.started");
  EXPECT_EQ(first["run_id"], "run_a");
  sentinel.send({{"subscribe", "run_a"}, {"after", 5}});
  sentinel.drain();

  append("run_a", 1);
  ASSERT_TRUE(c.wait_until([&] { return c.ws_events() == 4; }));
  c.send({{"unsubscribe", "run_a"}});
  c.send({{"unsubscribe", "run_b"}});  // not subscribed: nothing happens
  c.drain();
  append("run_a", 2);
  ASSERT_TRUE(sentinel.wait_until([&] { return sentinel.ws_events() == 3; }));
  c.drain();
  EXPECT_EQ(c.ws_seqs(), one_to(3, 6));
  EXPECT_TRUE(c.errors().empty());
  EXPECT_FALSE(c.closed());
}

TEST_F(stream_hub_test, websocket_ping_and_malformed_messages_get_replies) {
  stream_hub hub(st(), {});
  insert_run("run_a", "key_a");
  client c(hub.open_websocket({.key_id = "key_a", .admin = false}));
  c.send({{"ping", {{"n", 1}}}});
  c.drain();
  ASSERT_EQ(c.messages().size(), 1u);
  EXPECT_EQ(c.parsed()[0], (json{{"pong", {{"n", 1}}}}));

  const std::vector<std::string> bad = {
      "{not json",
      "[1, 2]",
      R"({"hello": 1})",
      R"({"subscribe": 5})",
      R"({"subscribe": ""})",
      R"({"subscribe": "run_a", "after": -1})",
      R"({"subscribe": "run_a", "after": 1.5})",
      R"({"subscribe": "run_a", "after": "3"})",
      R"({"subscribe": "*", "after": 3})",
      R"({"unsubscribe": 7})",
      "\xff\xfe",
  };
  for (const auto& text : bad) c.send_text(text);
  c.drain();
  auto errors = c.errors();
  ASSERT_EQ(errors.size(), bad.size());
  for (std::size_t i = 0; i < errors.size(); ++i) {
    EXPECT_EQ(errors[i]["status"], 400) << bad[i];
    EXPECT_EQ(errors[i]["title"], "Bad Request");
    EXPECT_TRUE(errors[i]["detail"].is_string());
    EXPECT_EQ(errors[i]["request_id"].get<std::string>().rfind("req_", 0), 0u);
  }
  EXPECT_NE(errors[0]["request_id"], errors[1]["request_id"]);
  EXPECT_FALSE(c.closed());
  EXPECT_EQ(c.ws_events(), 0u);
}

TEST_F(stream_hub_test, websocket_unknown_and_foreign_runs_are_not_found) {
  insert_run("run_mine", "key_a");
  insert_run("run_theirs", "key_b");
  insert_run("run_cli");  // no owner: admins only
  append("run_theirs", 2);
  stream_hub hub(st(), {});
  client c(hub.open_websocket({.key_id = "key_a", .admin = false}));
  c.send({{"subscribe", "run_missing"}});
  c.send({{"subscribe", "run_theirs"}});
  c.send({{"subscribe", "run_cli"}});
  c.send({{"subscribe", "run_mine"}});
  c.send({{"subscribe", "run_mine"}});  // again: 409
  c.drain();
  auto errors = c.errors();
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_EQ(errors[0]["status"], 404);
  EXPECT_EQ(errors[0]["detail"], "run run_missing not found");
  EXPECT_EQ(errors[1]["status"], 404);
  EXPECT_EQ(errors[1]["detail"], "run run_theirs not found");
  EXPECT_EQ(errors[2]["status"], 404);
  EXPECT_EQ(errors[3]["status"], 409);
  EXPECT_EQ(c.ws_events(), 0u);

  client admin(hub.open_websocket({.key_id = "key_admin", .admin = true}));
  admin.send({{"subscribe", "run_theirs"}});
  admin.drain();
  EXPECT_TRUE(admin.errors().empty());
  EXPECT_EQ(admin.ws_seqs("run_theirs"), one_to(1, 2));
}

TEST_F(stream_hub_test, websocket_subscription_ends_with_the_run_and_the_connection_stays) {
  insert_run("run_a", "key_a");
  insert_run("run_b", "key_a");
  append("run_a", 2);
  stream_hub hub(st(), {});
  client c(hub.open_websocket({.key_id = "key_a", .admin = false}));
  c.send({{"subscribe", "run_a"}});
  c.send({{"subscribe", "run_b"}});
  c.drain();
  finish("run_a");
  ASSERT_TRUE(c.wait_until([&] { return c.ws_seqs("run_a").size() == 3; }));
  EXPECT_EQ(c.parsed().back()["event"], "run.completed");
  // The run's subscription is gone (subscribing again is no duplicate and replays it);
  // the connection and the other subscription stay.
  c.send({{"subscribe", "run_a"}, {"after", 1}});
  c.drain();
  EXPECT_TRUE(c.errors().empty());
  EXPECT_EQ(c.ws_seqs("run_a"), (std::vector<std::int64_t>{1, 2, 3, 2, 3}));
  append("run_b", 1);
  ASSERT_TRUE(c.wait_until([&] { return c.ws_seqs("run_b").size() == 1; }));
  EXPECT_FALSE(c.closed());
}

TEST_F(stream_hub_test, websocket_subscriptions_are_limited_per_connection) {
  for (const auto* id : {"run_1", "run_2", "run_3"}) insert_run(id, "key_a");
  stream_hub hub(st(), {.max_ws_subscriptions = 2});
  client c(hub.open_websocket({.key_id = "key_a", .admin = false}));
  c.send({{"subscribe", "run_1"}});
  c.send({{"subscribe", "*"}});
  c.send({{"subscribe", "run_3"}});
  c.drain();
  auto errors = c.errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0]["status"], 400);
  EXPECT_NE(errors[0]["detail"].get<std::string>().find("too many subscriptions"),
            std::string::npos);
  c.send({{"unsubscribe", "*"}});
  c.send({{"subscribe", "run_3"}});
  c.drain();
  EXPECT_EQ(c.errors().size(), 1u);
}

TEST_F(stream_hub_test, websocket_star_sends_live_events_of_the_runs_the_viewer_may_see) {
  insert_run("run_a", "key_a");
  insert_run("run_b", "key_b");
  insert_run("run_cli");
  append("run_a", 2);  // before the subscription: "*" is live only
  stream_hub hub(st(), {});
  client mine(hub.open_websocket({.key_id = "key_a", .admin = false}));
  client admin(hub.open_websocket({.key_id = "key_admin", .admin = true}));
  mine.send({{"subscribe", "*"}});
  admin.send({{"subscribe", "*"}});
  mine.send({{"subscribe", "*"}});  // again: 409
  mine.drain();
  admin.drain();
  ASSERT_EQ(mine.errors().size(), 1u);
  EXPECT_EQ(mine.errors()[0]["status"], 409);

  for (int i = 0; i < 3; ++i) {
    append("run_b", 1);
    append("run_cli", 1);
    append("run_a", 1);
  }
  ASSERT_TRUE(admin.wait_until([&] { return admin.ws_events() == 9; }));
  ASSERT_TRUE(mine.wait_until([&] { return mine.ws_events() == 3; }));
  EXPECT_EQ(mine.ws_seqs("run_a"), one_to(3, 5));
  EXPECT_EQ(mine.ws_seqs().size(), 3u);  // nothing of run_b or run_cli
  EXPECT_EQ(admin.ws_seqs("run_a"), one_to(3, 5));
  EXPECT_EQ(admin.ws_seqs("run_b"), one_to(1, 3));
  EXPECT_EQ(admin.ws_seqs("run_cli"), one_to(1, 3));

  // A run followed both by "*" and by name is sent once, through its catch-up.
  admin.send({{"subscribe", "run_a"}});
  admin.drain();
  append("run_a", 1);
  append("run_b", 1);
  ASSERT_TRUE(admin.wait_until([&] { return admin.ws_seqs("run_b").size() == 4; }));
  EXPECT_EQ(admin.ws_seqs("run_a"), (std::vector<std::int64_t>{3, 4, 5, 1, 2, 3, 4, 5, 6}));

  ASSERT_TRUE(mine.wait_until([&] { return mine.ws_events() == 4; }));  // run_a #6
  mine.send({{"unsubscribe", "*"}});
  mine.drain();
  append("run_a", 1);
  ASSERT_TRUE(admin.wait_until([&] { return admin.ws_seqs("run_a").size() == 10; }));
  mine.drain();
  EXPECT_EQ(mine.ws_events(), 4u);
}

}  // namespace
}  // namespace grok::api
