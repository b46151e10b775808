#include "http/connection.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "api/problem.h"

namespace grok::http {
namespace {

// Bytes read at once while waiting for the next request on a keep-alive connection.
constexpr std::size_t k_read_chunk = 4096;

bool expects_continue(const beast_request& req) {
  auto it = req.find(bhttp::field::expect);
  return it != req.end() && beast::iequals(it->value(), "100-continue");
}

bool is_http_parse_error(const beast::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category();
}

}  // namespace

void waker_link::wake() {
  std::lock_guard lock(mutex_);
  if (!strand_ || posted_) return;
  posted_ = true;
  net::post(strand_, [weak = target_] {
    if (auto conn = weak.lock()) conn->on_wake();
  });
}

void waker_link::clear_posted() {
  std::lock_guard lock(mutex_);
  posted_ = false;
}

void waker_link::disarm() {
  std::lock_guard lock(mutex_);
  strand_ = net::any_io_executor();
  target_.reset();
}

connection::connection(std::shared_ptr<server_state> state, tcp::socket socket, std::uint64_t id)
    : state_(std::move(state)),
      id_(id),
      stream_(std::move(socket)),
      buffer_(state_->limits.max_header_bytes + k_read_chunk),
      timer_(stream_.get_executor()) {
  beast::error_code ec;
  const auto peer = stream_.socket().remote_endpoint(ec);
  remote_ = ec ? std::string("unknown") : format_endpoint(peer);
}

connection::~connection() {
  if (link_) link_->disarm();
  finish_session();
  state_->remove_connection(id_);
}

void connection::start() {
  link_ = std::make_shared<waker_link>(stream_.get_executor(), weak_from_this());
  state_->add_connection(id_, {weak_from_this(), link_});
  net::co_spawn(stream_.get_executor(), run(), [self = shared_from_this()](std::exception_ptr e) {
    if (!e) return;
    log_exception("connection " + self->remote_, e);
    net::dispatch(self->timer_.get_executor(), [self] { self->close_now(); });
  });
}

void connection::begin_drain() {
  net::post(timer_.get_executor(), [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->drain_now();
  });
}

void connection::force_close() {
  net::post(timer_.get_executor(), [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->close_now();
  });
}

void connection::drain_now() {
  draining_ = true;
  switch (phase_) {
    case phase::waiting: {
      // Idle between requests (or still receiving a head): nothing in flight to finish.
      beast::error_code ec;
      if (!ws_) stream_.socket().close(ec);
      break;
    }
    case phase::busy:
      break;  // the response goes out with Connection: close
    case phase::streaming:
      if (session_ && !session_closed_) {
        session_->shutdown();
        on_wake();
      }
      break;
  }
}

void connection::close_now() {
  peer_gone_ = true;
  beast::error_code ec;
  if (ws_) {
    beast::get_lowest_layer(*ws_).socket().close(ec);
  } else {
    stream_.socket().close(ec);
  }
  timer_.cancel();
}

void connection::on_wake() {
  // A new wake() may post again from now on: next_batch() has not run yet.
  if (link_) link_->clear_posted();
  wake_pending_ = true;
  timer_.cancel();
}

std::chrono::milliseconds connection::linger() const {
  return std::min(state_->limits.header_timeout, std::chrono::milliseconds(2000));
}

net::awaitable<void> connection::run() {
  bool first = true;
  while (co_await serve_request(first)) first = false;
  if (!ws_) co_await close_gracefully(stream_, linger());
}

net::awaitable<bool> connection::serve_request(bool first) {
  const auto& limits = state_->limits;
  phase_ = phase::waiting;
  if (draining_) co_return false;
  if (!first && buffer_.size() == 0) {
    // Keep-alive: the next request must start within idle_timeout, then its head must
    // complete within header_timeout.
    stream_.expires_after(limits.idle_timeout);
    auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(k_read_chunk), k_use_tuple);
    if (ec) co_return false;
    buffer_.commit(n);
  }
  if (draining_) co_return false;

  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(
      std::min<std::size_t>(limits.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
  parser.body_limit(limits.max_body_bytes);
  stream_.expires_after(limits.header_timeout);
  auto [head_ec, head_n] = co_await bhttp::async_read_header(stream_, buffer_, parser, k_use_tuple);
  if (head_ec) {
    co_return co_await reject_request(head_ec,
                                      parser.is_header_done() ? parser.get().version() : 11);
  }
  phase_ = phase::busy;
  state_->requests_total.fetch_add(1);
  if (const auto version = parser.get().version(); version != 10 && version != 11) {
    co_return co_await reject_request(bhttp::error::bad_version, 11);
  }

  if (!parser.is_done()) {
    if (expects_continue(parser.get())) {
      bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, parser.get().version()};
      stream_.expires_after(state_->write_timeout());
      auto [ec, n] = co_await bhttp::async_write(stream_, cont, k_use_tuple);
      if (ec) co_return false;
    }
    stream_.expires_after(state_->body_timeout());
    auto [body_ec, body_n] = co_await bhttp::async_read(stream_, buffer_, parser, k_use_tuple);
    if (body_ec) co_return co_await reject_request(body_ec, parser.get().version());
  }
  stream_.expires_never();

  beast_request req = parser.release();
  api::http_request request = to_api_request(req, remote_);
  api::http_response response = call_handler(request);
  if (response.stream) {
    co_await serve_stream(std::move(req), std::move(response), request.websocket_upgrade);
    co_return false;
  }

  const bool keep_alive = req.keep_alive() && !draining_ && !state_->stopping.load();
  auto res = to_beast_response(std::move(response), req.version(), keep_alive,
                               req.method() == bhttp::verb::head);
  stream_.expires_after(state_->write_timeout());
  auto [write_ec, write_n] = co_await bhttp::async_write(stream_, res, k_use_tuple);
  stream_.expires_never();
  if (write_ec) {
    beast::error_code ignored;
    stream_.socket().close(ignored);
    co_return false;
  }
  co_return keep_alive;
}

net::awaitable<bool> connection::reject_request(const beast::error_code& ec, unsigned version) {
  const auto& limits = state_->limits;
  int status = 0;
  std::string detail;
  if (ec == bhttp::error::body_limit) {
    status = 413;
    detail = "the request body exceeds " + std::to_string(limits.max_body_bytes) + " bytes";
  } else if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
    status = 431;
    detail = "the request head exceeds " + std::to_string(limits.max_header_bytes) + " bytes";
  } else if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) {
    status = 0;  // the peer went away
  } else if (ec == bhttp::error::bad_version) {
    status = 400;
    detail = "only HTTP/1.0 and HTTP/1.1 are supported";
  } else if (is_http_parse_error(ec)) {
    status = 400;
    detail = "malformed request: " + ec.message();
  }
  if (status == 0) {
    // Timeouts (a slow client), resets, a drain: nothing to answer.
    spdlog::debug("http: closing {}: {}", remote_, ec.message());
    beast::error_code ignored;
    stream_.socket().close(ignored);
    co_return false;
  }
  spdlog::debug("http: {} from {}: {}", status, remote_, detail);
  phase_ = phase::busy;
  if (version != 10 && version != 11) version = 11;
  if (!co_await write_problem(stream_, status, detail, version, state_->write_timeout())) {
    beast::error_code ignored;
    stream_.socket().close(ignored);
  }
  co_return false;  // run() closes gracefully
}

api::http_response connection::call_handler(api::http_request& request) const {
  // The handler should not throw; if it does, the client gets a 500 and the server lives.
  try {
    return state_->handler(request);
  } catch (const std::exception& e) {
    spdlog::error("http: handler threw for {} {} from {}: {}", request.method, request.target,
                  remote_, e.what());
  } catch (...) {
    spdlog::error("http: handler threw an unknown exception for {} {} from {}", request.method,
                  request.target, remote_);
  }
  return api::problem_response(500, "internal error", api::new_request_id());
}

}  // namespace grok::http
