#include "http/server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <future>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "http/beast.h"
#include "http/connection.h"
#include "http/server_state.h"
#include "http/wire.h"

namespace grok::http {
namespace {

// After drain_timeout the remaining connections are closed; this is how long they get to
// notice before the io threads stop regardless.
constexpr std::chrono::milliseconds k_force_grace{1000};
// Pause after a failed accept (e.g. out of file descriptors) before the next one.
constexpr std::chrono::milliseconds k_accept_backoff{100};

result<tcp::endpoint> parse_listen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos)
    return fail(errc::invalid_argument, "listen address '" + listen + "' has no port");
  std::string host = listen.substr(0, colon);
  const std::string port_text = listen.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535) {
    return fail(errc::invalid_argument, "listen address '" + listen + "' has a bad port");
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  net::ip::address address;
  if (host.empty()) {
    address = net::ip::address_v4::any();
  } else if (host == "localhost") {
    address = net::ip::address_v4::loopback();
  } else {
    beast::error_code parse_ec;
    address = net::ip::make_address(host, parse_ec);
    if (parse_ec) {
      return fail(errc::invalid_argument, "listen address '" + listen + "' has a bad host");
    }
  }
  return tcp::endpoint(address, static_cast<std::uint16_t>(port));
}

// Over max_connections: answer 503 and close, without counting as open.
net::awaitable<void> refuse(tcp::socket socket, std::shared_ptr<server_state> state) {
  beast::tcp_stream stream(std::move(socket));
  const auto linger = std::min(state->limits.header_timeout, std::chrono::milliseconds(1000));
  if (co_await write_problem(stream, 503, "the server is at its connection limit", 11, linger)) {
    co_await close_gracefully(stream, linger);
  }
}

}  // namespace

struct server::impl {
  std::shared_ptr<server_state> state = std::make_shared<server_state>();
  net::io_context ioc;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  tcp::acceptor acceptor;  // on its own strand
  std::vector<std::thread> threads;
  std::uint16_t port = 0;
  std::uint64_t next_id = 0;  // accept loop only

  std::mutex stop_mutex;
  bool stopped = false;  // guarded by stop_mutex

  explicit impl(int thread_count)
      : ioc(thread_count), work(ioc.get_executor()), acceptor(net::make_strand(ioc)) {}

  net::awaitable<void> accept_loop();
  void add_connection(tcp::socket socket);
  void run_io() noexcept;
  void close_acceptor();
  void stop();
};

net::awaitable<void> server::impl::accept_loop() {
  net::steady_timer backoff(acceptor.get_executor());
  for (;;) {
    auto [ec, socket] =
        co_await acceptor.async_accept(net::any_io_executor(net::make_strand(ioc)), k_use_tuple);
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) co_return;
      spdlog::warn("http: accept failed: {}", ec.message());
      backoff.expires_after(k_accept_backoff);
      co_await backoff.async_wait(k_use_tuple);
      continue;
    }
    if (state->stopping.load()) {
      beast::error_code ignored;
      socket.close(ignored);
      continue;
    }
    add_connection(std::move(socket));
  }
}

void server::impl::add_connection(tcp::socket socket) {
  const auto limit = static_cast<std::uint64_t>(std::max(state->limits.max_connections, 0));
  if (state->connections_open.load() >= limit) {
    state->connections_refused.fetch_add(1);
    auto executor = socket.get_executor();
    net::co_spawn(executor, refuse(std::move(socket), state),
                  [](std::exception_ptr e) { log_exception("refusing a connection", e); });
    return;
  }
  // Responses and stream messages are written whole: Nagle would only delay them.
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  state->connections_open.fetch_add(1);
  state->connections_total.fetch_add(1);
  auto conn = std::make_shared<connection>(state, std::move(socket), ++next_id);
  conn->start();
}

void server::impl::run_io() noexcept {
  for (;;) {
    try {
      ioc.run();
      return;
    } catch (const std::exception& e) {
      spdlog::error("http: io thread: {}", e.what());
    } catch (...) {
      spdlog::error("http: io thread: unknown exception");
    }
  }
}

void server::impl::close_acceptor() {
  auto closed = std::make_shared<std::promise<void>>();
  auto done = closed->get_future();
  net::post(acceptor.get_executor(), [this, closed] {
    beast::error_code ignored;
    acceptor.close(ignored);
    closed->set_value();
  });
  if (done.wait_for(state->limits.drain_timeout) != std::future_status::ready) {
    spdlog::warn("http: the io threads are busy; the listener closes late");
  }
}

// Called from a thread that is not an io thread: a handler that called stop() would wait
// for its own connection and then join itself.
void server::impl::stop() {
  std::lock_guard stop_lock(stop_mutex);
  if (stopped) return;
  stopped = true;
  state->stopping.store(true);
  close_acceptor();

  // Copy the registry first: a connection's destructor takes the same mutex.
  auto snapshot = [this] {
    std::vector<std::weak_ptr<connection>> out;
    std::lock_guard lock(state->mutex);
    for (const auto& [id, e] : state->connections) out.push_back(e.conn);
    return out;
  };
  auto wait_closed = [this](std::chrono::milliseconds limit) {
    std::unique_lock lock(state->mutex);
    return state->closed_cv.wait_for(lock, limit, [this] { return state->connections.empty(); });
  };
  for (const auto& weak : snapshot()) {
    if (auto conn = weak.lock()) conn->begin_drain();
  }
  if (!wait_closed(state->limits.drain_timeout)) {
    auto remaining = snapshot();
    spdlog::warn("http: {} connections still open after the drain timeout; closing them",
                 remaining.size());
    for (const auto& weak : remaining) {
      if (auto conn = weak.lock()) conn->force_close();
    }
    (void)wait_closed(k_force_grace);
  }

  work.reset();
  ioc.stop();
  for (auto& t : threads) {
    if (t.joinable()) t.join();
  }
  // Nothing runs any more; sessions that outlive the server must find their wakers inert
  // before the io_context goes away.
  std::lock_guard lock(state->mutex);
  for (const auto& [id, e] : state->connections) {
    if (e.link) e.link->disarm();
  }
}

result<std::unique_ptr<server>> server::start(std::string listen, const http_config& limits,
                                              request_handler handler) {
  auto endpoint = parse_listen(listen);
  if (!endpoint) return tl::unexpected(endpoint.error());
  if (!handler) return fail(errc::invalid_argument, "no request handler");

  const int threads = limits.io_threads > 0
                          ? limits.io_threads
                          : std::max(2, static_cast<int>(std::thread::hardware_concurrency()));
  auto p = std::make_unique<impl>(threads);
  p->state->limits = limits;
  p->state->handler = std::move(handler);

  beast::error_code ec;
  p->acceptor.open(endpoint->protocol(), ec);
  if (!ec) p->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) p->acceptor.bind(*endpoint, ec);
  if (!ec) p->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return fail(errc::io, "cannot listen on " + listen + ": " + ec.message());
  p->port = p->acceptor.local_endpoint(ec).port();

  net::co_spawn(p->acceptor.get_executor(), p->accept_loop(),
                [](std::exception_ptr e) { log_exception("the accept loop", e); });
  for (int i = 0; i < threads; ++i) {
    p->threads.emplace_back([raw = p.get()] { raw->run_io(); });
  }
  spdlog::info("http: listening on {} ({} io threads)",
               format_endpoint(tcp::endpoint(endpoint->address(), p->port)), threads);
  return std::unique_ptr<server>(new server(std::move(p)));
}

server::server(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

server::~server() { stop(); }

std::uint16_t server::port() const noexcept { return impl_->port; }

void server::stop() { impl_->stop(); }

server_stats server::stats() const {
  const auto& s = *impl_->state;
  return {.connections_open = s.connections_open.load(),
          .connections_total = s.connections_total.load(),
          .connections_refused = s.connections_refused.load(),
          .requests_total = s.requests_total.load()};
}

}  // namespace grok::http
