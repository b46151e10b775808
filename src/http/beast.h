// The Boost.Asio / Boost.Beast headers and namespace aliases the transport uses. Private
// to src/http (and its tests): nothing outside this folder includes Beast. It is also the
// precompiled header of grok_http, so keep it to library headers only.
// Thread-safety: declarations only.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace grok::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = net::ip::tcp;

// Expected network outcomes (peer gone, timeout, cancelled) come back as error codes.
inline constexpr auto k_use_tuple = net::as_tuple(net::use_awaitable);

}  // namespace grok::http
