// SSE and WebSocket over real sockets: the transport, the stream hub and the API service
// wired as `grok serve` wires them, on a real SQLite store, with Beast clients. Events are
// stored straight through the store (as the engine stores them), so each test controls
// exactly what is sent: resume, several subscribers, "*", ping/pong, and a slow consumer
// that is disconnected while a fast one keeps receiving everything.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include "api/rate_limiter.h"
#include "api/service.h"
#include "api/stream_hub.h"
#include "cli/commands.h"
#include "cli/runtime.h"
#include "core/ids.h"
#include "engine/events.h"
#include "http/server.h"
#include "tests_support/temp_dir.h"

namespace grok {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using json = nlohmann::json;
using namespace std::chrono_literals;

class streaming : public ::testing::Test {
 protected:
  void start(std::size_t stream_buffer_bytes = 1024 * 1024) {
    config c;
    c.data_dir = dir_.path().string();
    c.workers = 0;
    c.llm_base_url = "http://127.0.0.1:9/v1";  // never called: no workers
    c.http.stream_buffer_bytes = stream_buffer_bytes;
    c.http.heartbeat = 30s;  // no ping in the way of the slow-consumer test
    auto rt = cli::make_runtime(c);
    ASSERT_TRUE(rt) << rt.error().message;
    rt_ = std::move(*rt);
    auto& st = *rt_->store;
    admin_ = *cli::insert_new_key(st, "admin", "admin");
    alice_ = *cli::insert_new_key(st, "runs", "alice");
    bob_ = *cli::insert_new_key(st, "runs", "bob");
    limiter_ = api::make_local_rate_limiter({.per_second = 1e6, .burst = 1e6}, st.store_clock());
    hub_ = std::make_unique<api::stream_hub>(
        st, api::stream_limits{.max_buffer_bytes = stream_buffer_bytes});
    service_ = std::make_unique<api::service>(api::service_deps{.store = st,
                                                                .engine = *rt_->engine,
                                                                .hub = *hub_,
                                                                .limiter = *limiter_,
                                                                .clock = st.store_clock(),
                                                                .readiness = nullptr},
                                              api::service_options{});
    auto server = http::server::start("127.0.0.1:0", c.http,
                                      [this](api::http_request& r) { return service_->handle(r); });
    ASSERT_TRUE(server) << server.error().message;
    server_ = std::move(*server);
  }
  void TearDown() override {
    if (server_) server_->stop();
  }

  // A run owned by `key` (through the API, so that its owner is that key).
  std::string create_run(const std::string& key) {
    api::http_request r;
    r.method = "POST";
    r.target = "/v1/runs";
    r.headers = {{"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}};
    r.body = R"({"input": "stream me"})";
    auto res = service_->handle(r);
    EXPECT_EQ(res.status, 201) << res.body;
    return json::parse(res.body)["id"];
  }
  // Appends `n` events of `type` to a run, one transaction each; returns the last seq.
  std::int64_t append(const std::string& run_id, int n, const std::string& type = "test.tick",
                      std::size_t pad = 0) {
    std::int64_t last = 0;
    for (int i = 0; i < n; ++i) {
      auto r = rt_->store->transact([&](store::transaction& tx) -> result<void> {
        auto seq = tx.append_event(
            engine::make_event(run_id, type, tx.now(), {{"i", i}, {"pad", std::string(pad, 'x')}}));
        if (!seq) return tl::unexpected(seq.error());
        last = *seq;
        return {};
      });
      EXPECT_TRUE(r) << r.error().message;
    }
    return last;
  }
  // Ends a run with its terminal event.
  void finish(const std::string& run_id) {
    auto r = rt_->engine->cancel_run(run_id, "done here");
    EXPECT_TRUE(r) << r.error().message;
  }

  tcp::endpoint endpoint() const { return {net::ip::make_address("127.0.0.1"), server_->port()}; }

  testing::temp_dir dir_;
  std::unique_ptr<cli::runtime> rt_;
  std::unique_ptr<api::rate_limiter> limiter_;
  std::unique_ptr<api::stream_hub> hub_;
  std::unique_ptr<api::service> service_;
  std::unique_ptr<http::server> server_;
  std::string admin_, alice_, bob_;
};

// A blocking WebSocket client with a read deadline.
class ws_client {
 public:
  ws_client(tcp::endpoint ep, const std::string& key, int rcvbuf = 0) : ws_(io_) {
    auto& sock = beast::get_lowest_layer(ws_);
    sock.socket().open(tcp::v4());
    if (rcvbuf > 0) {
      sock.socket().set_option(net::socket_base::receive_buffer_size(rcvbuf));
    }
    sock.connect(ep);
    ws_.set_option(websocket::stream_base::decorator([key](websocket::request_type& r) {
      r.set(beast::http::field::authorization, "Bearer " + key);
    }));
    ws_.handshake("127.0.0.1", "/v1/ws");
  }
  void send(const json& msg) { ws_.write(net::buffer(msg.dump())); }
  // The next message, or a discarded json when the connection closed or timed out.
  json read(std::chrono::milliseconds timeout = 10s) {
    beast::get_lowest_layer(ws_).expires_after(timeout);
    beast::flat_buffer buf;
    beast::error_code ec;
    ws_.read(buf, ec);
    if (ec) {
      last_error_ = ec;
      return json::value_t::discarded;
    }
    return json::parse(beast::buffers_to_string(buf.data()), nullptr, false);
  }
  // Sends a ping message and reads until its pong: every earlier message was handled.
  std::vector<json> sync(const std::string& token = "sync") {
    send({{"ping", token}});
    std::vector<json> before;
    while (true) {
      auto m = read();
      if (m.is_discarded()) return before;
      if (m.contains("pong") && m["pong"] == token) return before;
      before.push_back(m);
    }
  }
  [[nodiscard]] beast::error_code last_error() const { return last_error_; }
  [[nodiscard]] websocket::close_reason close_reason() const { return ws_.reason(); }

 private:
  net::io_context io_;
  websocket::stream<beast::tcp_stream> ws_;
  beast::error_code last_error_;
};

// A raw SSE client: sends the request, then reads events.
class sse_client {
 public:
  sse_client(tcp::endpoint ep, const std::string& target, const std::string& key,
             const std::string& extra_headers = "")
      : sock_(io_) {
    sock_.connect(ep);
    const std::string req = "GET " + target +
                            " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + key +
                            "\r\n" + extra_headers + "\r\n";
    net::write(sock_.socket(), net::buffer(req));
    sock_.expires_after(10s);
    auto n = net::read_until(sock_, buf_, "\r\n\r\n");
    std::string head(net::buffers_begin(buf_.data()),
                     net::buffers_begin(buf_.data()) + static_cast<std::ptrdiff_t>(n));
    buf_.consume(n);
    status_line_ = head.substr(0, head.find("\r\n"));
  }
  // The next event's id, or "" when the stream ended.
  std::string next_id(std::chrono::milliseconds timeout = 10s) {
    while (true) {
      sock_.expires_after(timeout);
      beast::error_code ec;
      auto n = net::read_until(sock_, buf_, "\n\n", ec);
      if (ec) return "";
      std::string block(net::buffers_begin(buf_.data()),
                        net::buffers_begin(buf_.data()) + static_cast<std::ptrdiff_t>(n));
      buf_.consume(n);
      auto at = block.find("id: ");
      if (at == std::string::npos) continue;  // a heartbeat comment
      return block.substr(at + 4, block.find('\n', at) - at - 4);
    }
  }
  [[nodiscard]] const std::string& status_line() const { return status_line_; }

 private:
  net::io_context io_;
  beast::tcp_stream sock_;
  net::streambuf buf_;
  std::string status_line_;
};

TEST_F(streaming, websocket_subscribe_with_after_then_live_until_the_run_ends) {
  start();
  auto run = create_run(alice_);  // seq 1: run.created
  append(run, 4);                 // 2..5
  ws_client a(endpoint(), alice_);
  a.send({{"subscribe", run}, {"after", 2}});
  auto backlog = a.sync();
  ASSERT_EQ(backlog.size(), 3U);
  EXPECT_EQ(backlog[0]["seq"], 3);
  EXPECT_EQ(backlog[2]["seq"], 5);
  append(run, 2);  // 6, 7 live
  EXPECT_EQ(a.read()["seq"], 6);
  EXPECT_EQ(a.read()["seq"], 7);
  finish(run);
  auto last = a.read();
  EXPECT_EQ(last["event"], "run.cancelled");
  // The subscription ended with the run; the connection stays usable.
  EXPECT_TRUE(a.sync("still-here").empty());
}

TEST_F(streaming, several_subscribers_each_get_every_event_in_order) {
  start();
  auto run = create_run(alice_);
  std::vector<std::unique_ptr<ws_client>> ws;
  for (int i = 0; i < 3; ++i) {
    ws.push_back(std::make_unique<ws_client>(endpoint(), i == 2 ? admin_ : alice_));
    ws.back()->send({{"subscribe", run}});
    ASSERT_EQ(ws.back()->sync().size(), 1U);  // run.created
  }
  sse_client sse(endpoint(), "/v1/runs/" + run + "/stream", alice_);
  EXPECT_EQ(sse.status_line(), "HTTP/1.1 200 OK");
  EXPECT_EQ(sse.next_id(), "1");
  std::thread writer([&] { append(run, 50); });
  for (auto& c : ws) {
    for (int seq = 2; seq <= 51; ++seq) ASSERT_EQ(c->read()["seq"], seq);
  }
  for (int seq = 2; seq <= 51; ++seq) ASSERT_EQ(sse.next_id(), std::to_string(seq));
  writer.join();
  finish(run);
  EXPECT_EQ(sse.next_id(), "52");
  EXPECT_EQ(sse.next_id(), "") << "the SSE response ends after the terminal event";
}

TEST_F(streaming, sse_resumes_from_last_event_id) {
  start();
  auto run = create_run(alice_);
  append(run, 9);
  sse_client sse(endpoint(), "/v1/runs/" + run + "/stream", alice_, "Last-Event-ID: 7\r\n");
  EXPECT_EQ(sse.next_id(), "8");
  EXPECT_EQ(sse.next_id(), "9");
  EXPECT_EQ(sse.next_id(), "10");
  append(run, 1);
  EXPECT_EQ(sse.next_id(), "11");
}

TEST_F(streaming, star_follows_every_run_the_key_may_see) {
  start();
  ws_client alice(endpoint(), alice_);
  ws_client admin(endpoint(), admin_);
  alice.send({{"subscribe", "*"}});
  admin.send({{"subscribe", "*"}});
  EXPECT_TRUE(alice.sync().empty());
  EXPECT_TRUE(admin.sync().empty());
  auto bobs = create_run(bob_);
  auto alices = create_run(alice_);
  append(bobs, 1);
  append(alices, 1);
  // Alice sees only her run's two events; the admin sees all four.
  std::set<std::string> alice_runs;
  for (int i = 0; i < 2; ++i) alice_runs.insert(alice.read()["run_id"].get<std::string>());
  EXPECT_EQ(alice_runs, std::set<std::string>{alices});
  EXPECT_TRUE(alice.sync().empty()) << "nothing of Bob's run reaches Alice";
  std::set<std::string> admin_runs;
  for (int i = 0; i < 4; ++i) admin_runs.insert(admin.read()["run_id"].get<std::string>());
  EXPECT_EQ(admin_runs, (std::set<std::string>{bobs, alices}));
}

TEST_F(streaming, protocol_errors_are_replies_not_disconnects) {
  start();
  auto bobs = create_run(bob_);
  ws_client alice(endpoint(), alice_);
  alice.send({{"subscribe", bobs}});
  auto err = alice.sync();
  ASSERT_EQ(err.size(), 1U);
  EXPECT_EQ(err[0]["error"]["status"], 404) << "another key's run is not revealed";
  alice.send({{"subscribe", 42}});
  err = alice.sync();
  ASSERT_EQ(err.size(), 1U);
  EXPECT_EQ(err[0]["error"]["status"], 400);
  alice.send({{"subscribe", create_run(alice_)}, {"after", -1}});
  err = alice.sync();
  ASSERT_EQ(err.size(), 1U);
  EXPECT_EQ(err[0]["error"]["status"], 400);
}

TEST_F(streaming, a_slow_consumer_is_dropped_and_never_slows_the_others) {
  // 64 KiB of send buffer per stream; the slow client also shrinks its socket's receive
  // buffer so that the kernel holds little on its behalf.
  start(64 * 1024);
  auto run = create_run(alice_);
  ws_client slow(endpoint(), alice_, 4096);
  ws_client fast(endpoint(), alice_);
  slow.send({{"subscribe", run}});
  fast.send({{"subscribe", run}});
  ASSERT_EQ(slow.sync().size(), 1U);
  ASSERT_EQ(fast.sync().size(), 1U);
  // ~24 MiB of events, each stored once the fast client has read the one before: more
  // than the slow client's socket buffers and its stream buffer can hold.
  constexpr int k_events = 3000;
  int expected = 2;
  json unexpected;
  for (; expected <= k_events + 1; ++expected) {
    append(run, 1, "test.tick", 8 * 1024);
    auto m = fast.read();
    if (m.is_discarded() || m["seq"] != expected) {
      unexpected = m.is_discarded() ? json("closed: " + fast.last_error().message()) : m;
      break;
    }
  }
  ASSERT_EQ(expected, k_events + 2) << "the fast client gets everything, in order; at " << expected
                                    << " got " << unexpected.dump().substr(0, 300);
  // The slow client now reads what reached it, then the close with its reason.
  while (!slow.read().is_discarded()) {
  }
  EXPECT_EQ(slow.last_error(), websocket::error::closed) << slow.last_error().message();
  EXPECT_EQ(slow.close_reason().code, websocket::close_code::policy_error);
  EXPECT_NE(std::string(slow.close_reason().reason.c_str()).find("slow consumer"),
            std::string::npos);
  EXPECT_GE(hub_->current_stats().slow_consumers_dropped, 1U);
}

TEST_F(streaming, shutdown_closes_websockets_with_going_away) {
  start();
  ws_client a(endpoint(), alice_);
  a.send({{"subscribe", "*"}});
  EXPECT_TRUE(a.sync().empty());
  hub_->shutdown();
  EXPECT_TRUE(a.read().is_discarded());
  EXPECT_EQ(a.close_reason().code, websocket::close_code::going_away);
}

}  // namespace
}  // namespace grok
