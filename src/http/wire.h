// The small I/O steps every connection shares: writing a transport-generated problem response and
// closing a socket without losing what was just written. Private to src/http. Thread-safety: the
// functions touch only their arguments; a stream must be used from its own strand.
#pragma once

#include <chrono>
#include <cstddef>
#include <exception>
#include <string>
#include <string_view>

#include "api/http_types.h"
#include "http/beast.h"
#include "http/message.h"

namespace grok::http {

// Bytes a lingering close reads and discards at most before it gives up.
inline constexpr std::size_t k_linger_bytes = 1024 * 1024;

// Writes a problem+json response with Connection: close (fresh request id). Returns false
// when the write failed.
[[nodiscard]] net::awaitable<bool> write_problem(beast::tcp_stream& stream, int status,
                                                 std::string_view detail, unsigned version,
                                                 std::chrono::milliseconds write_timeout);

// Half-closes the socket, reads and discards what the peer still sends (at most
// k_linger_bytes, for at most `linger`) so that the peer sees our last response rather
// than a reset, then closes.
[[nodiscard]] net::awaitable<void> close_gracefully(beast::tcp_stream& stream,
                                                    std::chrono::milliseconds linger);

// "ip:port" ("[v6]:port" for IPv6).
[[nodiscard]] std::string format_endpoint(const tcp::endpoint& ep);

// For co_spawn completion handlers: logs what escaped a coroutine, if anything.
void log_exception(std::string_view where, const std::exception_ptr& e) noexcept;

}  // namespace grok::http
