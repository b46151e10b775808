#include "api/stream_hub.h"

#include <algorithm>
#include <utility>

#include "api/stream_channel.h"
#include "api/stream_router.h"
#include "api/stream_sessions.h"

namespace grok::api {

// The router is the shared state; sessions hold it too, so they may outlive the hub.
struct stream_hub::impl {
  std::shared_ptr<detail::stream_router> router;
};

namespace {

stream_limits checked(stream_limits limits) {
  limits.max_buffer_bytes = std::max<std::size_t>(limits.max_buffer_bytes, 1);
  limits.catch_up_page = std::clamp(limits.catch_up_page, 1, 10'000);
  limits.max_ws_subscriptions = std::max<std::size_t>(limits.max_ws_subscriptions, 1);
  return limits;
}

// A registered channel, or one already closing (1001) when the hub is shutting down.
std::shared_ptr<detail::stream_channel> open_channel(
    const std::shared_ptr<detail::stream_router>& router, stream_kind kind, viewer who) {
  auto ch = std::make_shared<detail::stream_channel>(router, kind, std::move(who));
  if (!router->add_channel(ch)) ch->shutdown();
  return ch;
}

}  // namespace

stream_hub::stream_hub(store::store& st, stream_limits limits) : impl_(std::make_shared<impl>()) {
  impl_->router = std::make_shared<detail::stream_router>(st, checked(limits));
  impl_->router->start();
}

stream_hub::~stream_hub() { impl_->router->stop(); }

std::shared_ptr<stream_session> stream_hub::open_sse(std::string run_id, std::int64_t after) {
  // The route checked that the run exists and may be seen; the one read here tells
  // whether it has already ended (then the stream ends after the stored events).
  auto ch = open_channel(impl_->router, stream_kind::sse, viewer{.key_id = {}, .admin = true});
  bool ended = false;
  if (auto run = impl_->router->read_run(run_id); run && *run) {
    ended = store::is_terminal((*run)->status);
  }
  ch->follow_run(run_id, after, ended);
  return std::make_shared<detail::sse_session>(std::move(ch));
}

std::shared_ptr<stream_session> stream_hub::open_websocket(viewer who) {
  return std::make_shared<detail::ws_session>(
      open_channel(impl_->router, stream_kind::websocket, std::move(who)));
}

void stream_hub::shutdown() { impl_->router->shutdown_all(); }

stream_hub::stats stream_hub::current_stats() const { return impl_->router->current_stats(); }

}  // namespace grok::api
