// bench/http/fanout: live event delivery to many streaming clients. One run, N SSE and N
// WebSocket subscribers (default 1,000 each) connected over loopback to the real HTTP
// transport, stream hub and API; then E events (default 1,000) are stored one transaction
// each, twice:
//   - burst: as fast as the store takes them. Prints messages/s delivered (all clients
//     together: the fan-out's capacity) and the latency, which is then queueing;
//   - paced: at --rate events/s (default 50, i.e. 100,000 messages/s to 2,000 clients,
//     below that capacity). Prints the delivery latency of a server that keeps up.
// Latency is from just before the event's transaction to the client having read it.
//
// The server (transport, hub, API, SQLite store) runs in this process on its own io
// threads; the clients run on one more thread. The two compete for the same cores, like a
// server whose clients are on the same box.
//
// usage: fanout_bench [--sse N] [--ws N] [--events N] [--rate EVENTS_PER_S]
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "api/rate_limiter.h"
#include "api/service.h"
#include "api/stream_hub.h"
#include "cli/commands.h"
#include "cli/runtime.h"
#include "core/ids.h"
#include "engine/events.h"
#include "http/server.h"

using namespace grok;
namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using steady = std::chrono::steady_clock;

namespace {

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "fanout_bench: %s\n", what.c_str());
  std::exit(1);
}

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now().time_since_epoch())
      .count();
}

// Every "t_ns": value in `text` after `from`, as latencies against now.
void collect_latencies(std::string_view text, std::vector<std::int64_t>& out, std::int64_t now) {
  static constexpr std::string_view k_field = "\"t_ns\":";
  for (auto at = text.find(k_field); at != std::string_view::npos;
       at = text.find(k_field, at + 1)) {
    std::int64_t sent = 0;
    auto start = text.data() + at + k_field.size();
    auto [ptr, ec] = std::from_chars(start, text.data() + text.size(), sent);
    if (ec == std::errc()) out.push_back(now - sent);
  }
}

struct client_state {
  std::vector<std::int64_t> latencies;
  std::atomic<bool> ready{false};
  std::atomic<bool> failed{false};
};

struct shared_counters {
  std::atomic<std::int64_t> received{0};
  std::atomic<int> ready{0};
  std::atomic<int> failed{0};
  std::atomic<std::int64_t> last_receive_ns{0};
};

void note_received(shared_counters& c, std::size_t n) {
  if (n == 0) return;
  c.received += static_cast<std::int64_t>(n);
  c.last_receive_ns = now_ns();
}

net::awaitable<void> sse_client(tcp::endpoint ep, std::string target, std::string key,
                                client_state& me, shared_counters& counters, std::size_t events) {
  tcp::socket sock(co_await net::this_coro::executor);
  auto [ec] = co_await sock.async_connect(ep, net::as_tuple(net::use_awaitable));
  if (ec) {
    me.failed = true;
    ++counters.failed;
    co_return;
  }
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                    key + "\r\nAccept: text/event-stream\r\n\r\n";
  co_await net::async_write(sock, net::buffer(req), net::as_tuple(net::use_awaitable));
  std::string buf;
  std::vector<char> chunk(16 * 1024);
  bool headers_done = false;
  std::size_t got = 0;
  while (got < events) {
    auto [rec, n] =
        co_await sock.async_read_some(net::buffer(chunk), net::as_tuple(net::use_awaitable));
    if (rec) break;
    const auto now = now_ns();
    buf.append(chunk.data(), n);
    if (!headers_done) {
      auto end = buf.find("\r\n\r\n");
      if (end == std::string::npos) continue;
      headers_done = true;
      buf.erase(0, end + 4);
      me.ready = true;
      ++counters.ready;
    }
    // Only complete events: up to the last blank line.
    auto last = buf.rfind("\n\n");
    if (last == std::string::npos) continue;
    const auto before = me.latencies.size();
    collect_latencies(std::string_view(buf).substr(0, last), me.latencies, now);
    buf.erase(0, last + 2);
    got += me.latencies.size() - before;
    note_received(counters, me.latencies.size() - before);
  }
  if (got < events) {
    me.failed = true;
    ++counters.failed;
  }
}

net::awaitable<void> ws_client(tcp::endpoint ep, std::string run_id, std::string key,
                               client_state& me, shared_counters& counters, std::size_t events) {
  websocket::stream<beast::tcp_stream> ws(co_await net::this_coro::executor);
  auto [ec] =
      co_await beast::get_lowest_layer(ws).async_connect(ep, net::as_tuple(net::use_awaitable));
  if (!ec) {
    ws.set_option(websocket::stream_base::decorator([&key](websocket::request_type& r) {
      r.set(beast::http::field::authorization, "Bearer " + key);
    }));
    std::tie(ec) =
        co_await ws.async_handshake("127.0.0.1", "/v1/ws", net::as_tuple(net::use_awaitable));
  }
  if (!ec) {
    const std::string sub = R"({"subscribe":")" + run_id + R"("})";
    std::tie(ec, std::ignore) =
        co_await ws.async_write(net::buffer(sub), net::as_tuple(net::use_awaitable));
  }
  if (!ec) {
    const std::string ping = R"({"ping":"ready"})";
    std::tie(ec, std::ignore) =
        co_await ws.async_write(net::buffer(ping), net::as_tuple(net::use_awaitable));
  }
  if (ec) {
    me.failed = true;
    ++counters.failed;
    co_return;
  }
  beast::flat_buffer buffer;
  std::size_t got = 0;
  while (got < events) {
    auto [rec, n] = co_await ws.async_read(buffer, net::as_tuple(net::use_awaitable));
    if (rec) break;
    const auto now = now_ns();
    std::string_view text(static_cast<const char*>(buffer.data().data()), buffer.size());
    if (!me.ready && text.find("\"pong\"") != std::string_view::npos) {
      me.ready = true;
      ++counters.ready;
    } else {
      const auto before = me.latencies.size();
      collect_latencies(text, me.latencies, now);
      got += me.latencies.size() - before;
      note_received(counters, me.latencies.size() - before);
    }
    buffer.consume(buffer.size());
  }
  if (got < events) {
    me.failed = true;
    ++counters.failed;
  }
}

std::int64_t percentile(std::vector<std::int64_t>& v, double p) {
  if (v.empty()) return 0;
  auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t sse_count = 1000, ws_count = 1000, events = 1000, rate = 50;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const auto value = static_cast<std::size_t>(std::strtoull(argv[i + 1], nullptr, 10));
    if (flag == "--sse") {
      sse_count = value;
    } else if (flag == "--ws") {
      ws_count = value;
    } else if (flag == "--events") {
      events = value;
    } else if (flag == "--rate") {
      rate = std::max<std::size_t>(value, 1);
    } else {
      die("unknown flag " + flag + " (use --sse N --ws N --events N --rate N)");
    }
  }
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  const auto needed = 2 * (sse_count + ws_count) + 200;
  if (files.rlim_cur < needed) {
    files.rlim_cur = std::min<rlim_t>(needed, files.rlim_max);
    setrlimit(RLIMIT_NOFILE, &files);
  }

  const auto dir =
      std::filesystem::temp_directory_path() / ("grok-fanout-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  config c;
  c.data_dir = dir.string();
  c.workers = 0;
  c.llm_base_url = "http://127.0.0.1:9/v1";  // never called: no workers
  c.http.max_connections = static_cast<int>(sse_count + ws_count + 100);
  c.http.rate_per_second = 1e9;
  c.http.rate_burst = 1e9;
  auto rt = cli::make_runtime(c);
  if (!rt) die(describe(rt.error()));
  auto& st = *(*rt)->store;
  auto key = cli::insert_new_key(st, "admin", "bench");
  if (!key) die(describe(key.error()));
  auto limiter = api::make_local_rate_limiter({.per_second = 1e9, .burst = 1e9}, st.store_clock());
  api::stream_hub hub(st, {.max_buffer_bytes = c.http.stream_buffer_bytes});
  api::service service({.store = st,
                        .engine = *(*rt)->engine,
                        .hub = hub,
                        .limiter = *limiter,
                        .clock = st.store_clock(),
                        .readiness = nullptr},
                       {});
  auto server = http::server::start("127.0.0.1:0", c.http,
                                    [&service](api::http_request& r) { return service.handle(r); });
  if (!server) die(describe(server.error()));

  // One run the events belong to.
  store::run_record run;
  run.id = new_id("run", st.store_clock().now());
  run.status = store::run_status::running;
  run.input = "fan-out benchmark";
  run.created_at = st.store_clock().now();
  if (auto r = st.transact([&](store::transaction& tx) { return tx.insert_run(run); }); !r) {
    die(describe(r.error()));
  }

  const tcp::endpoint ep(net::ip::make_address("127.0.0.1"), (*server)->port());
  net::io_context clients_io;
  shared_counters counters;
  std::vector<std::unique_ptr<client_state>> clients;
  const std::string target = "/v1/runs/" + run.id + "/stream";
  for (std::size_t i = 0; i < sse_count + ws_count; ++i) {
    clients.push_back(std::make_unique<client_state>());
    auto& me = *clients.back();
    if (i < sse_count) {
      net::co_spawn(clients_io, sse_client(ep, target, *key, me, counters, 2 * events),
                    net::detached);
    } else {
      net::co_spawn(clients_io, ws_client(ep, run.id, *key, me, counters, 2 * events),
                    net::detached);
    }
  }
  std::thread client_thread([&] { clients_io.run(); });

  const auto total_clients = static_cast<int>(sse_count + ws_count);
  const auto connect_start = steady::now();
  while (counters.ready + counters.failed < total_clients) {
    if (steady::now() - connect_start > std::chrono::seconds(120)) die("clients did not connect");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const auto connect_s = std::chrono::duration<double>(steady::now() - connect_start).count();
  if (counters.failed > 0)
    die(std::to_string(counters.failed.load()) + " clients failed to connect");

  // Stores `n` events, one transaction each as the engine would, `interval` apart (zero:
  // back to back), and waits until every client has them. Returns {first store, last read}.
  const auto total = static_cast<std::int64_t>(total_clients);
  auto run_phase = [&](std::size_t n, std::chrono::nanoseconds interval,
                       std::int64_t received_before) {
    const auto start_ns = now_ns();
    auto next = steady::now();
    for (std::size_t i = 0; i < n; ++i) {
      if (interval.count() > 0) {
        std::this_thread::sleep_until(next);
        next += interval;
      }
      auto r = st.transact([&](store::transaction& tx) -> result<void> {
        auto draft =
            engine::make_event(run.id, "bench.tick", tx.now(), {{"t_ns", now_ns()}, {"i", i}});
        auto seq = tx.append_event(draft);
        if (!seq) return tl::unexpected(seq.error());
        return {};
      });
      if (!r) die(describe(r.error()));
    }
    const auto stored_ns = now_ns();
    const auto expected = received_before + static_cast<std::int64_t>(n) * total;
    while (counters.received < expected && counters.failed == 0) {
      if (now_ns() - stored_ns > 180'000'000'000LL) die("clients did not receive everything");
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return std::pair<std::int64_t, std::int64_t>{start_ns, counters.last_receive_ns.load()};
  };
  const auto burst = run_phase(events, std::chrono::nanoseconds(0), 0);
  const auto paced = run_phase(events, std::chrono::nanoseconds(1'000'000'000 / rate),
                               static_cast<std::int64_t>(events) * total);
  const auto stats = hub.current_stats();

  (*server)->stop();
  clients_io.stop();
  client_thread.join();

  // Each client got the burst's events first, then the paced ones, in order.
  std::vector<std::int64_t> burst_latency, paced_latency;
  for (auto& cl : clients) {
    const auto split = std::min(cl->latencies.size(), events);
    burst_latency.insert(burst_latency.end(), cl->latencies.begin(),
                         cl->latencies.begin() + static_cast<std::ptrdiff_t>(split));
    paced_latency.insert(paced_latency.end(),
                         cl->latencies.begin() + static_cast<std::ptrdiff_t>(split),
                         cl->latencies.end());
  }
  auto ms = [](std::int64_t ns) { return static_cast<double>(ns) / 1e6; };
  auto print_latency = [&](std::vector<std::int64_t>& v) {
    const auto max = v.empty() ? 0 : *std::max_element(v.begin(), v.end());
    std::printf("    latency stored -> received: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
                ms(percentile(v, 0.50)), ms(percentile(v, 0.99)), ms(max));
  };
  std::printf("fan-out: %zu SSE + %zu WebSocket subscribers on one run, %zu events per phase\n",
              sse_count, ws_count, events);
  std::printf("  connect + subscribe all clients: %.2f s\n", connect_s);
  const double burst_s = static_cast<double>(burst.second - burst.first) / 1e9;
  std::printf(
      "  burst: %zu events stored back to back, %zu messages delivered in %.3f s: "
      "%.0f messages/s (%.0f events/s to every subscriber)\n",
      events, burst_latency.size(), burst_s, static_cast<double>(burst_latency.size()) / burst_s,
      static_cast<double>(events) / burst_s);
  print_latency(burst_latency);
  const double paced_s = static_cast<double>(paced.second - paced.first) / 1e9;
  std::printf(
      "  paced: %zu events/s for %zu events, %zu messages delivered in %.3f s: "
      "%.0f messages/s\n",
      rate, events, paced_latency.size(), paced_s,
      static_cast<double>(paced_latency.size()) / paced_s);
  print_latency(paced_latency);
  std::printf("  slow consumers dropped: %llu\n",
              static_cast<unsigned long long>(stats.slow_consumers_dropped));
  const bool complete =
      burst_latency.size() + paced_latency.size() == 2 * events * static_cast<std::size_t>(total);
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return complete ? 0 : 1;
}
