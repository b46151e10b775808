// api::service: the event routes — GET /v1/runs/{id}/events, the SSE stream and the
// WebSocket upgrade (the sessions themselves are the stream hub's, tested there).
#include "api/service.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "api/stream_session.h"
#include "engine/events.h"
#include "unit/api/service_fixture.h"

namespace grok::testing {
namespace {

using json = nlohmann::json;

// Appends `n` events to a run, as the engine would.
void append_events(service_env& env, const std::string& run_id, int n) {
  ASSERT_TRUE(env.st->transact([&](store::transaction& tx) -> result<void> {
    for (int i = 0; i < n; ++i) {
      auto seq = tx.append_event(engine::make_event(run_id, "step.started", tx.now(),
                                                    json::object(), std::nullopt, "worker.E1"));
      if (!seq) return tl::unexpected(seq.error());
    }
    return {};
  }));
}

// Reads what a session sends, waiting on its waker (never on a sleep).
class session_reader {
 public:
  explicit session_reader(api::stream_session& s) : session_(s) {
    session_.set_waker([state = state_] {
      std::lock_guard lock(state->mutex);
      ++state->wakes;
      state->cv.notify_all();
    });
  }

  // Everything sent until `want` turned up (or the stream closed, or 10 s passed).
  std::string read_until(const std::string& want) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (out_.find(want) == std::string::npos && std::chrono::steady_clock::now() < give_up) {
      std::uint64_t seen = 0;
      {
        std::lock_guard lock(state_->mutex);
        seen = state_->wakes;
      }
      auto batch = session_.next_batch();
      for (const auto& m : batch.messages) out_ += *m;
      if (batch.close) break;
      if (batch.messages.empty()) {
        std::unique_lock lock(state_->mutex);
        state_->cv.wait_for(lock, std::chrono::milliseconds(200),
                            [&] { return state_->wakes != seen; });
      }
    }
    return out_;
  }

 private:
  struct shared {
    std::mutex mutex;
    std::condition_variable cv;
    std::uint64_t wakes = 0;  // guarded by mutex
  };
  api::stream_session& session_;
  std::shared_ptr<shared> state_ = std::make_shared<shared>();
  std::string out_;
};

TEST(service_streams, events_pages_through_the_runs_events) {
  service_env env;
  const auto id = env.create_run(env.alice);
  append_events(env, id, 4);  // seq 2..5 after run.created

  auto r = env.get("/v1/runs/" + id + "/events", env.alice);
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = body_of(r);
  ASSERT_EQ(body["data"].size(), 5U);
  EXPECT_EQ(body["data"][0]["event"], "run.created");
  EXPECT_EQ(body["data"][0]["schema"], 1);
  EXPECT_EQ(body["data"][0]["seq"], 1);
  EXPECT_EQ(body["data"][0]["run_id"], id);
  EXPECT_TRUE(body["data"][0].contains("ts"));
  EXPECT_EQ(body["data"][1]["name"], "worker.E1");
  EXPECT_EQ(body["next_after"], 5);

  auto page = body_of(env.get("/v1/runs/" + id + "/events?after=1&limit=2", env.alice));
  ASSERT_EQ(page["data"].size(), 2U);
  EXPECT_EQ(page["data"][0]["seq"], 2);
  EXPECT_EQ(page["next_after"], 3);
  auto rest = body_of(env.get("/v1/runs/" + id + "/events?after=3", env.alice));
  EXPECT_EQ(rest["data"].size(), 2U);
  EXPECT_EQ(rest["next_after"], 5);
  auto none = body_of(env.get("/v1/runs/" + id + "/events?after=5", env.alice));
  EXPECT_TRUE(none["data"].empty());
  EXPECT_EQ(none["next_after"], 5);
  auto beyond = body_of(env.get("/v1/runs/" + id + "/events?after=99", env.alice));
  EXPECT_EQ(beyond["next_after"], 99);

  expect_problem(env.get("/v1/runs/run_01HZX3J5W9Q8RS2T4V6Y8A0C1E/events", env.alice), 404);
}

TEST(service_streams, stream_answers_with_an_sse_session_from_the_resume_point) {
  service_env env;
  const auto id = env.create_run(env.alice);
  append_events(env, id, 2);

  auto r = env.get("/v1/runs/" + id + "/stream", env.alice);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(header_of(r, "Content-Type"), "text/event-stream");
  EXPECT_EQ(header_of(r, "Cache-Control"), "no-cache");
  EXPECT_FALSE(header_of(r, "X-Request-Id").empty());
  EXPECT_FALSE(header_of(r, "RateLimit-Limit").empty());
  EXPECT_TRUE(r.body.empty());
  ASSERT_TRUE(r.stream);
  EXPECT_EQ(r.stream->kind(), api::stream_kind::sse);
  session_reader reader(*r.stream);
  const auto all = reader.read_until("id: 3\n");
  EXPECT_NE(all.find("id: 1\nevent: run.created\n"), std::string::npos) << all;
  EXPECT_NE(all.find("id: 3\n"), std::string::npos) << all;
  r.stream->on_closed();

  // ?after= and Last-Event-ID (which wins) set where it resumes.
  auto after = env.get("/v1/runs/" + id + "/stream?after=2", env.alice);
  ASSERT_EQ(after.status, 200);
  session_reader after_reader(*after.stream);
  auto text = after_reader.read_until("id: 3\n");
  EXPECT_EQ(text.find("id: 1\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("id: 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("id: 3\n"), std::string::npos) << text;
  after.stream->on_closed();

  auto req = service_env::request("GET", "/v1/runs/" + id + "/stream?after=0", &env.alice);
  req.headers.emplace_back("Last-Event-ID", "2");
  auto resumed = env.handle(req);
  ASSERT_EQ(resumed.status, 200);
  session_reader resumed_reader(*resumed.stream);
  text = resumed_reader.read_until("id: 3\n");
  EXPECT_EQ(text.find("id: 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("id: 3\n"), std::string::npos) << text;
  resumed.stream->on_closed();
}

TEST(service_streams, stream_refuses_a_bad_resume_point) {
  service_env env;
  const auto id = env.create_run(env.alice);
  for (const char* v : {"abc", "-1", "1.0", " 1", ""}) {
    auto req = service_env::request("GET", "/v1/runs/" + id + "/stream", &env.alice);
    req.headers.emplace_back("Last-Event-ID", v);
    auto r = env.handle(req);
    expect_problem(r, 400);
    EXPECT_TRUE(detail_of(r).starts_with("Last-Event-ID:"));
    EXPECT_FALSE(r.stream);
  }
  expect_problem(env.get("/v1/runs/" + id + "/stream?after=x", env.alice), 400);
  expect_problem(env.get("/v1/runs/run_01HZX3J5W9Q8RS2T4V6Y8A0C1E/stream", env.alice), 404);
}

TEST(service_streams, websocket_needs_an_upgrade_and_a_key) {
  service_env env;
  auto plain = env.get("/v1/ws", env.alice);
  expect_problem(plain, 426);
  EXPECT_EQ(header_of(plain, "Upgrade"), "websocket");
  EXPECT_FALSE(plain.stream);

  auto req = service_env::request("GET", "/v1/ws", &env.alice);
  req.websocket_upgrade = true;
  req.headers.emplace_back("X-Request-Id", "ws-1");
  auto r = env.handle(req);
  EXPECT_EQ(r.status, 101);
  EXPECT_EQ(header_of(r, "X-Request-Id"), "ws-1");
  ASSERT_TRUE(r.stream);
  EXPECT_EQ(r.stream->kind(), api::stream_kind::websocket);
  r.stream->on_closed();

  auto anonymous = service_env::request("GET", "/v1/ws");
  anonymous.websocket_upgrade = true;
  expect_problem(env.handle(anonymous), 401);
}

TEST(service_streams, websocket_session_follows_what_the_key_may_see) {
  service_env env;
  const auto mine = env.create_run(env.alice);
  const auto theirs = env.create_run(env.bob);
  auto req = service_env::request("GET", "/v1/ws", &env.alice);
  req.websocket_upgrade = true;
  auto r = env.handle(req);
  ASSERT_EQ(r.status, 101);
  session_reader reader(*r.stream);
  r.stream->on_message(json({{"subscribe", mine}, {"after", 0}}).dump());
  auto text = reader.read_until("run.created");
  EXPECT_NE(text.find(mine), std::string::npos) << text;
  r.stream->on_message(json({{"subscribe", theirs}}).dump());
  text = reader.read_until("error");
  EXPECT_NE(text.find("error"), std::string::npos) << text;
  r.stream->on_closed();
}

}  // namespace
}  // namespace grok::testing
