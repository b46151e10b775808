// Live event fan-out (api/stream_hub.h) against a real SQLite store: SSE sessions, slow
// consumers, shutdown. Sessions are driven the way the transport drives them.
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

// --- SSE ---

TEST_F(stream_hub_test, sse_catches_up_from_zero_then_goes_live_and_ends_after_the_terminal) {
  insert_run("run_a");
  append("run_a", 5);
  stream_hub hub(st(), {});
  client c(hub.open_sse("run_a", 0));
  c.drain();
  EXPECT_EQ(c.sse_seqs(), one_to(1, 5));
  EXPECT_FALSE(c.closed());
  // The exact framing of one event.
  const auto& first = c.messages().front();
  EXPECT_EQ(first.rfind("id: 1\nevent: step.started\ndata: {", 0), 0u) << first;
  auto envelope = json::parse(first.substr(first.find("data: ") + 6));
  EXPECT_EQ(envelope["schema"], 1);
  EXPECT_EQ(envelope["event"], "step.started");
  EXPECT_EQ(envelope["run_id"], "run_a");
  EXPECT_EQ(envelope["i"], 0);
  EXPECT_EQ(c.session().heartbeat(), ": keep-alive\n\n");
  EXPECT_EQ(c.session().kind(), stream_kind::sse);

  append("run_a", 3);
  ASSERT_TRUE(c.wait_until([&] { return c.messages().size() == 8; }));
  finish("run_a");
  ASSERT_TRUE(c.wait_for_close());
  EXPECT_EQ(c.sse_seqs(), one_to(1, 9));
  EXPECT_EQ(c.closed()->code, 1000);
  EXPECT_EQ(c.closed()->reason, "run ended");
  EXPECT_NE(c.messages().back().find("event: run.completed\n"), std::string::npos);
}

TEST_F(stream_hub_test, sse_resumes_after_the_last_event_id) {
  insert_run("run_a");
  append("run_a", 5);
  stream_hub hub(st(), {});
  client c(hub.open_sse("run_a", 3));
  c.drain();
  EXPECT_EQ(c.sse_seqs(), one_to(4, 5));
  append("run_a", 2);
  ASSERT_TRUE(c.wait_until([&] { return c.messages().size() == 4; }));
  EXPECT_EQ(c.sse_seqs(), one_to(4, 7));
}

TEST_F(stream_hub_test, the_waker_is_called_when_a_live_event_arrives) {
  insert_run("run_a");
  stream_hub hub(st(), {});
  client c(hub.open_sse("run_a", 0));
  c.drain();  // nothing stored: the session is live now
  EXPECT_TRUE(c.messages().empty());
  const auto before = c.wakes();
  append("run_a", 1);
  ASSERT_TRUE(c.wait_for_wake(before));
  c.drain();
  EXPECT_EQ(c.sse_seqs(), one_to(1, 1));
}

TEST_F(stream_hub_test, sse_of_an_ended_run_sends_its_stored_events_then_ends) {
  insert_run("run_a");
  append("run_a", 4);
  finish("run_a");
  stream_hub hub(st(), {});
  {
    client c(hub.open_sse("run_a", 0));
    c.drain();
    EXPECT_EQ(c.sse_seqs(), one_to(1, 5));
    ASSERT_TRUE(c.closed());
    EXPECT_EQ(c.closed()->code, 1000);
  }
  {
    client c(hub.open_sse("run_a", 2));
    c.drain();
    EXPECT_EQ(c.sse_seqs(), one_to(3, 5));
    EXPECT_TRUE(c.closed());
  }
  {
    // Resuming after the terminal event: nothing to send, the stream ends at once.
    client c(hub.open_sse("run_a", 5));
    c.drain();
    EXPECT_TRUE(c.messages().empty());
    ASSERT_TRUE(c.closed());
    EXPECT_EQ(c.closed()->reason, "run ended");
  }
}

TEST_F(stream_hub_test, two_subscribers_of_one_run_both_get_everything) {
  insert_run("run_a");
  append("run_a", 2);
  stream_hub hub(st(), {});
  client a(hub.open_sse("run_a", 0));
  client b(hub.open_sse("run_a", 1));
  a.drain();
  b.drain();
  for (int i = 0; i < 20; ++i) append("run_a", 1 + i % 3);
  finish("run_a");
  ASSERT_TRUE(a.wait_for_close());
  ASSERT_TRUE(b.wait_for_close());
  // 2 stored, 20 transactions of 1, 2, 3, 1, ... events (7 + 14 + 18), the terminal.
  EXPECT_EQ(a.sse_seqs(), one_to(1, 42));
  EXPECT_EQ(b.sse_seqs(), one_to(2, 42));
  EXPECT_GT(hub.current_stats().events_fanned_out, 0u);
}

// Catch-up and live delivery meet without a gap or a duplicate while a writer appends
// events concurrently, whatever the interleaving.
TEST_F(stream_hub_test, catch_up_under_concurrent_appends_has_no_gap_and_no_duplicate) {
  stream_hub hub(st(), {.catch_up_page = 7});
  for (int round = 0; round < 4; ++round) {
    const auto run_id = "run_" + std::to_string(round);
    insert_run(run_id);
    append(run_id, 30);
    std::thread writer([&] {
      for (int i = 0; i < 150; ++i) append(run_id, 1 + i % 3);
      finish(run_id);
    });
    std::vector<std::unique_ptr<client>> clients;
    // Readers joining at different moments, from the start and from the middle.
    for (int k = 0; k < 3; ++k) {
      clients.push_back(std::make_unique<client>(hub.open_sse(run_id, k == 1 ? 10 : 0)));
      clients.back()->drain();
    }
    for (auto& c : clients) ASSERT_TRUE(c->wait_for_close());
    writer.join();
    auto run = st().get_run(run_id);
    ASSERT_TRUE(run && *run);
    const auto last = (*run)->last_seq;
    EXPECT_EQ(clients[0]->sse_seqs(), one_to(1, last)) << round;
    EXPECT_EQ(clients[1]->sse_seqs(), one_to(11, last)) << round;
    EXPECT_EQ(clients[2]->sse_seqs(), one_to(1, last)) << round;
  }
}

// Live events that arrive while a client is still catching up are kept in a bounded list;
// when it overflows it is dropped and catch-up reads them back from the store instead.
TEST_F(stream_hub_test, catch_up_reads_back_what_the_pending_list_had_to_drop) {
  insert_run("run_a");
  append("run_a", 50);
  stream_hub hub(st(), {.max_buffer_bytes = 2000, .catch_up_page = 10});
  client c(hub.open_sse("run_a", 0));
  auto first = c.session().next_batch();  // one page; the client then stalls
  ASSERT_EQ(first.messages.size(), 10u);
  for (int i = 0; i < 40; ++i) append("run_a", 3);  // far more than 2000 bytes
  // Wait until the fan-out has seen everything (a second, live session gets it all).
  client probe(hub.open_sse("run_a", 170));
  probe.drain();
  append("run_a", 1);
  ASSERT_TRUE(probe.wait_until([&] { return probe.messages().size() == 1; }));
  c.drain();
  EXPECT_EQ(c.sse_seqs(), one_to(11, 171));
  EXPECT_FALSE(c.closed());  // a backlog is not a slow consumer
  EXPECT_EQ(hub.current_stats().slow_consumers_dropped, 0u);
  append("run_a", 1);
  ASSERT_TRUE(c.wait_until([&] { return c.sse_seqs().back() == 172; }));
}

TEST_F(stream_hub_test, a_big_backlog_is_sent_page_by_page) {
  insert_run("run_a");
  append("run_a", 5000);
  stream_hub hub(st(), {.catch_up_page = 500});
  client c(hub.open_sse("run_a", 0));
  auto b = c.session().next_batch();
  EXPECT_EQ(b.messages.size(), 500u);
  c.drain();
  EXPECT_LE(c.max_batch(), 500u);
  auto seqs = c.sse_seqs();
  EXPECT_EQ(seqs.size(), 4500u);
  EXPECT_EQ(seqs, one_to(501, 5000));

  client ws(hub.open_websocket({.key_id = "", .admin = true}));
  ws.send({{"subscribe", "run_a"}, {"after", 1000}});
  ws.drain();
  EXPECT_LE(ws.max_batch(), 500u);
  EXPECT_EQ(ws.ws_seqs(), one_to(1001, 5000));
}

TEST_F(stream_hub_test, a_slow_consumer_is_dropped_and_others_keep_receiving) {
  insert_run("run_a");
  stream_hub hub(st(), {.max_buffer_bytes = 4096});
  client slow(hub.open_sse("run_a", 0));
  client fast(hub.open_websocket({.key_id = "", .admin = true}));
  fast.send({{"subscribe", "run_a"}});
  slow.drain();  // live now, and never drained again until the end
  fast.drain();
  const auto slow_wakes = slow.wakes();
  for (std::size_t i = 1; i <= 100; ++i) {
    append("run_a", 2);
    ASSERT_TRUE(fast.wait_until([&] { return fast.ws_events() == 2 * i; }));
  }
  EXPECT_EQ(fast.ws_seqs(), one_to(1, 200));
  EXPECT_GT(slow.wakes(), slow_wakes);
  auto b = slow.session().next_batch();
  EXPECT_TRUE(b.messages.empty());
  ASSERT_TRUE(b.close);
  EXPECT_EQ(b.close->code, 1008);
  EXPECT_EQ(b.close->reason, "slow consumer: send buffer of 4096 bytes full");
  EXPECT_LE(b.close->reason.size(), 123u);
  EXPECT_EQ(hub.current_stats().slow_consumers_dropped, 1u);
  // The fast one keeps going.
  append("run_a", 1);
  ASSERT_TRUE(fast.wait_until([&] { return fast.ws_events() == 201; }));
}

// --- lifecycle ---

TEST_F(stream_hub_test, shutdown_closes_every_session_with_1001) {
  insert_run("run_a", "key_a");
  stream_hub hub(st(), {});
  client sse(hub.open_sse("run_a", 0));
  client ws(hub.open_websocket({.key_id = "key_a", .admin = false}));
  ws.send({{"subscribe", "run_a"}});
  sse.drain();
  ws.drain();
  EXPECT_EQ(hub.current_stats().open_sse, 1u);
  EXPECT_EQ(hub.current_stats().open_websocket, 1u);
  const auto sse_wakes = sse.wakes();
  const auto ws_wakes = ws.wakes();
  hub.shutdown();
  EXPECT_GT(sse.wakes(), sse_wakes);
  EXPECT_GT(ws.wakes(), ws_wakes);
  for (auto* c : {&sse, &ws}) {
    auto b = c->session().next_batch();
    ASSERT_TRUE(b.close);
    EXPECT_EQ(b.close->code, 1001);
    EXPECT_EQ(b.close->reason, "server shutting down");
  }
  // Sessions opened afterwards end at once.
  client late(hub.open_websocket({.key_id = "key_a", .admin = true}));
  late.drain();
  ASSERT_TRUE(late.closed());
  EXPECT_EQ(late.closed()->code, 1001);
}

TEST_F(stream_hub_test, sessions_may_outlive_the_hub) {
  insert_run("run_a");
  append("run_a", 3);
  auto hub = std::make_unique<stream_hub>(st(), stream_limits{});
  auto sse = std::make_unique<client>(hub->open_sse("run_a", 0));
  auto ws = std::make_unique<client>(hub->open_websocket({.key_id = "", .admin = true}));
  ws->send({{"subscribe", "run_a"}});
  hub.reset();
  sse->drain();
  ws->drain();
  ASSERT_TRUE(sse->closed());
  EXPECT_EQ(sse->closed()->code, 1001);
  ASSERT_TRUE(ws->closed());
  EXPECT_EQ(ws->closed()->code, 1001);
  ws->send({{"subscribe", "run_a"}});  // ignored: the hub is gone
  append("run_a", 1);                  // nobody listens any more
  sse.reset();
  ws.reset();
}

TEST_F(stream_hub_test, stats_count_open_sessions) {
  insert_run("run_a");
  stream_hub hub(st(), {});
  {
    client a(hub.open_sse("run_a", 0));
    client b(hub.open_websocket({.key_id = "", .admin = true}));
    client d(hub.open_websocket({.key_id = "", .admin = true}));
    auto s = hub.current_stats();
    EXPECT_EQ(s.open_sse, 1u);
    EXPECT_EQ(s.open_websocket, 2u);
  }
  auto s = hub.current_stats();
  EXPECT_EQ(s.open_sse, 0u);
  EXPECT_EQ(s.open_websocket, 0u);
}

}  // namespace
}  // namespace grok::api
