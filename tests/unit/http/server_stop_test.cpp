// stop(): no new connections, the request in flight finishes, streams end (SSE ends,
// WebSocket closes 1001), and what will not end is closed after drain_timeout.
#include "http/server.h"

#include <gtest/gtest.h>

#include <thread>

#include "unit/http/test_client.h"

namespace grok::http::testing {
namespace {

using clock_type = std::chrono::steady_clock;

TEST(http_server_stop, finishes_the_request_in_flight_and_refuses_new_connections) {
  auto limits = test_limits();
  limits.drain_timeout = 10s;
  toy_handler handler;
  auto srv = start_server(limits, handler.as_handler());
  client_io io;
  auto in_flight = io.start(raw_exchange(srv->port(), "GET /block HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(io.pump([&] { return handler.wait_entered(0ms); }));
  // An idle keep-alive connection is simply closed.
  beast::tcp_stream idle(io.run(connect_to(srv->port())));
  beast::flat_buffer buffer;
  EXPECT_EQ(io.run(exchange(idle, buffer, make_request(bhttp::verb::get, "/a"))).result_int(),
            200u);

  std::thread stopper([&] { srv->stop(); });
  EXPECT_TRUE(io.run(wait_refused(srv->port(), 5s)));
  EXPECT_EQ(io.run(read_to_end(idle.socket())), "");
  EXPECT_EQ(in_flight.wait_for(0s), std::future_status::timeout);

  handler.release();
  ASSERT_TRUE(io.pump([&] { return in_flight.wait_for(0s) == std::future_status::ready; }));
  auto res = parse_response(in_flight.get());
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(res.body(), "done");
  EXPECT_FALSE(res.keep_alive());
  stopper.join();
  EXPECT_EQ(srv->stats().connections_open, 0u);
  srv->stop();  // idempotent
}

TEST(http_server_stop, ends_sse_and_closes_websockets_1001) {
  auto limits = test_limits();
  limits.drain_timeout = 10s;
  toy_handler handler;
  auto srv = start_server(limits, handler.as_handler());
  client_io io;
  auto sse = io.run(open_sse(srv->port(), "/sse"));
  websocket::response_type res;
  beast::error_code ec;
  auto ws = io.run(open_ws(srv->port(), "/ws", res, ec));
  ASSERT_FALSE(ec) << ec.message();
  auto sse_session = handler.session(1);
  auto ws_session = handler.session(2);

  const auto started = clock_type::now();
  std::thread stopper([&] { srv->stop(); });
  auto messages = io.run(read_ws_until_closed(*ws));
  EXPECT_EQ(messages, (std::vector<std::string>{"bye"}));
  EXPECT_EQ(ws->reason().code, 1001);
  EXPECT_EQ(std::string(ws->reason().reason.data(), ws->reason().reason.size()),
            "server shutting down");
  sse.body += io.run(read_to_end(sse.socket));
  EXPECT_EQ(sse.body, "data: bye\n\n");
  stopper.join();
  EXPECT_LT(clock_type::now() - started, limits.drain_timeout);

  for (const auto& session : {sse_session, ws_session}) {
    EXPECT_EQ(session->shutdown_calls(), 1);
    EXPECT_EQ(session->closed_calls(), 1);
  }
}

TEST(http_server_stop, closes_what_does_not_end_after_drain_timeout) {
  auto limits = test_limits();
  limits.drain_timeout = 300ms;
  toy_handler handler;
  auto srv = start_server(limits, handler.as_handler());
  client_io io;
  websocket::response_type res;
  beast::error_code ec;
  auto ws = io.run(open_ws(srv->port(), "/ws-stubborn", res, ec));
  ASSERT_FALSE(ec) << ec.message();
  auto session = handler.session();
  auto reading = io.start(read_ws_until_closed(*ws));

  const auto started = clock_type::now();
  srv->stop();
  const auto took = clock_type::now() - started;
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 5s);
  EXPECT_EQ(session->shutdown_calls(), 1);
  EXPECT_EQ(session->closed_calls(), 1);
  ASSERT_TRUE(io.pump([&] { return reading.wait_for(0s) == std::future_status::ready; }));
  EXPECT_NE(ws->reason().code, 1001);  // dropped, not closed
}

TEST(http_server_stop, a_waker_kept_past_the_server_is_inert) {
  toy_handler handler;
  auto srv = start_server(test_limits(), handler.as_handler());
  client_io io;
  auto sse = io.run(open_sse(srv->port(), "/sse"));
  auto session = handler.session();
  srv.reset();  // the destructor stops
  EXPECT_EQ(session->closed_calls(), 1);
  std::thread producer([&] { session->push("data: late\n\n"); });
  producer.join();
  EXPECT_EQ(session->waker_calls(), 1);
  sse.body += io.run(read_to_end(sse.socket));
  EXPECT_EQ(sse.body, "data: bye\n\n");
}

}  // namespace
}  // namespace grok::http::testing
