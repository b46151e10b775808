// Test support for the stream hub tests: a transport stand-in that drives a session the
// way http/ does (a waker that counts, next_batch until empty, on_message), and a fixture
// with a real SQLite store in a temp dir.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/stream_hub.h"
#include "engine/events.h"
#include "store/open_store.h"
#include "tests_support/temp_dir.h"

namespace grok::api::stream_testing {

using json = nlohmann::json;

inline constexpr auto k_wait =
    std::chrono::seconds(20);  // generous: only ever reached when something is broken

// A transport stand-in: counts wake-ups and collects what next_batch() hands out.
class client {
 public:
  explicit client(std::shared_ptr<stream_session> s) : session_(std::move(s)) {
    session_->set_waker([w = wakes_] {
      std::lock_guard lock(w->mutex);
      ++w->count;
      w->changed.notify_all();
    });
  }
  ~client() { session_->on_closed(); }
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  stream_session& session() { return *session_; }

  // next_batch() until it returns nothing or a close, as the transport loops.
  void drain() {
    while (!close_) {
      auto b = session_->next_batch();
      max_batch_ = std::max(max_batch_, b.messages.size());
      for (const auto& m : b.messages) messages_.push_back(*m);
      if (b.close) close_ = b.close;
      if (b.messages.empty()) return;
    }
  }

  // Drains on every wake-up until `done` holds, the session closes or k_wait passes.
  bool wait_until(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + k_wait;
    for (;;) {
      const auto seen = wakes();
      drain();
      if (done() || close_) return done();
      std::unique_lock lock(wakes_->mutex);
      if (!wakes_->changed.wait_until(lock, deadline, [&] { return wakes_->count != seen; })) {
        lock.unlock();
        drain();
        return done();
      }
    }
  }
  bool wait_for_close() {
    return wait_until([] { return false; }) || close_.has_value();
  }

  // Blocks until the waker was called more than `seen` times.
  bool wait_for_wake(std::uint64_t seen) {
    std::unique_lock lock(wakes_->mutex);
    return wakes_->changed.wait_for(lock, k_wait, [&] { return wakes_->count > seen; });
  }

  std::uint64_t wakes() const {
    std::lock_guard lock(wakes_->mutex);
    return wakes_->count;
  }

  void send(const json& j) { session_->on_message(j.dump()); }
  void send_text(std::string_view text) { session_->on_message(text); }

  const std::vector<std::string>& messages() const { return messages_; }
  const std::optional<close_reason>& closed() const { return close_; }
  std::size_t max_batch() const { return max_batch_; }

  // WebSocket: the messages as JSON; event envelopes are those with "seq".
  std::vector<json> parsed() const {
    std::vector<json> out;
    for (const auto& m : messages_) out.push_back(json::parse(m));
    return out;
  }
  std::vector<json> errors() const {
    std::vector<json> out;
    for (const auto& j : parsed()) {
      if (j.contains("error")) out.push_back(j["error"]);
    }
    return out;
  }
  std::vector<std::int64_t> ws_seqs(const std::string& run_id = {}) const {
    std::vector<std::int64_t> out;
    for (const auto& j : parsed()) {
      if (j.contains("seq") && (run_id.empty() || j["run_id"] == run_id)) {
        out.push_back(j["seq"].get<std::int64_t>());
      }
    }
    return out;
  }
  std::size_t ws_events() const { return ws_seqs().size(); }

  // SSE: the ids of the frames, checking that each frame is well formed.
  std::vector<std::int64_t> sse_seqs() const {
    std::vector<std::int64_t> out;
    for (const auto& m : messages_) {
      EXPECT_EQ(m.rfind("id: ", 0), 0u) << m;
      EXPECT_TRUE(m.ends_with("\n\n")) << m;
      const auto id = std::stoll(m.substr(4, m.find('\n') - 4));
      const auto data = m.find("\ndata: ");
      EXPECT_NE(data, std::string::npos) << m;
      auto envelope = json::parse(m.substr(data + 7, m.size() - data - 9));
      EXPECT_EQ(envelope["seq"], id);
      out.push_back(id);
    }
    return out;
  }

 private:
  struct wake_count {
    mutable std::mutex mutex;
    std::condition_variable changed;
    std::uint64_t count = 0;
  };

  std::shared_ptr<stream_session> session_;
  std::shared_ptr<wake_count> wakes_ = std::make_shared<wake_count>();
  std::vector<std::string> messages_;
  std::optional<close_reason> close_;
  std::size_t max_batch_ = 0;
};

inline std::vector<std::int64_t> one_to(std::int64_t first, std::int64_t last) {
  std::vector<std::int64_t> out;
  for (auto s = first; s <= last; ++s) out.push_back(s);
  return out;
}

class stream_hub_test : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened =
        store::open_store({.url = "sqlite://" + dir_.file("grok.db"), .time_source = &clock_});
    ASSERT_TRUE(opened) << describe(opened.error());
    store_ = std::move(*opened);
  }

  store::store& st() { return *store_; }

  void insert_run(const std::string& id, std::optional<std::string> owner = std::nullopt) {
    store::run_record r;
    r.id = id;
    r.status = store::run_status::running;
    r.input = "q";
    r.owner_key_id = std::move(owner);
    r.created_at = clock_.now();
    auto ok = st().transact([&](store::transaction& tx) { return tx.insert_run(r); });
    ASSERT_TRUE(ok) << describe(ok.error());
  }

  // Appends `n` events in one transaction.
  void append(const std::string& run_id, int n, std::string_view type = "step.started") {
    auto ok = st().transact([&](store::transaction& tx) -> result<void> {
      for (int i = 0; i < n; ++i) {
        auto seq = tx.append_event(engine::make_event(run_id, type, tx.now(), json{{"i", i}}));
        if (!seq) return tl::unexpected(seq.error());
      }
      return {};
    });
    ASSERT_TRUE(ok) << describe(ok.error());
  }

  // The terminal event and the run's status, in one transaction as the engine does.
  void finish(const std::string& run_id) {
    auto ok = st().transact([&](store::transaction& tx) -> result<void> {
      auto run = tx.get_run(run_id);
      if (!run) return tl::unexpected(run.error());
      auto r = **run;
      r.status = store::run_status::completed;
      r.finished_at = tx.now();
      if (auto u = tx.update_run(r); !u) return u;
      auto seq = tx.append_event(
          engine::make_event(run_id, "run.completed", tx.now(), json{{"answer", "4"}}));
      if (!seq) return tl::unexpected(seq.error());
      return {};
    });
    ASSERT_TRUE(ok) << describe(ok.error());
  }

  grok::testing::temp_dir dir_;
  manual_clock clock_;
  std::unique_ptr<store::store> store_;
};

}  // namespace grok::api::stream_testing
