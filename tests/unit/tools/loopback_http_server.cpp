#include "unit/tools/loopback_http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <cstring>

namespace grok::testing {
namespace {

constexpr int k_io_timeout_ms = 10'000;

int listen_v4(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) std::abort();
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 16) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int listen_v6(int port) {
  const int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int one = 1;
  ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(static_cast<std::uint16_t>(port));
  a.sin6_addr = in6addr_loopback;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 16) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int bound_port(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) std::abort();
  return ntohs(a.sin_port);
}

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    // MSG_NOSIGNAL: the client may have hung up (a size-limit test does).
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

loopback_http_server::loopback_http_server(handler h) : handler_(std::move(h)) {
  // The IPv6 socket takes the port the IPv4 one got; another process may hold it on ::1,
  // so try a few ports.
  for (int attempt = 0; attempt < 20; ++attempt) {
    v4_fd_ = listen_v4(0);
    if (v4_fd_ < 0) std::abort();
    port_ = bound_port(v4_fd_);
    v6_fd_ = listen_v6(port_);
    if (v6_fd_ >= 0) break;
    const int probe = listen_v6(0);
    if (probe < 0) break;  // no IPv6 loopback here: serve IPv4 only
    ::close(probe);
    if (attempt == 19) break;  // keep IPv4 alone rather than nothing
    ::close(v4_fd_);
  }
  std::array<int, 2> pipe_fds{};
  if (::pipe2(pipe_fds.data(), O_CLOEXEC) != 0) std::abort();
  wake_read_ = pipe_fds[0];
  wake_write_ = pipe_fds[1];
  thread_ = std::thread([this] { run(); });
}

loopback_http_server::~loopback_http_server() {
  const char byte = 'x';
  (void)!::write(wake_write_, &byte, 1);
  thread_.join();
  for (int fd : {v4_fd_, v6_fd_, wake_read_, wake_write_}) {
    if (fd >= 0) ::close(fd);
  }
}

std::string loopback_http_server::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

int loopback_http_server::connections() const {
  std::lock_guard lock(mutex_);
  return accepted_ - syncs_;
}

bool loopback_http_server::wait_for_connections(int n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return accepted_cv_.wait_for(lock, timeout, [&] { return accepted_ - syncs_ >= n; });
}

std::vector<http_request_seen> loopback_http_server::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

void loopback_http_server::sync() {
  {
    std::lock_guard lock(mutex_);
    ++syncs_;
  }
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port_));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) std::abort();
  write_all(fd, "GET /__sync HTTP/1.1\r\nHost: x\r\n\r\n");
  // Read until the server closes: it has then accepted everything queued before us.
  std::array<char, 256> buf{};
  pollfd p{fd, POLLIN, 0};
  while (::poll(&p, 1, k_io_timeout_ms) > 0 && ::read(fd, buf.data(), buf.size()) > 0) {
  }
  ::close(fd);
}

void loopback_http_server::run() {
  for (;;) {
    std::array<pollfd, 3> fds{{{wake_read_, POLLIN, 0}, {v4_fd_, POLLIN, 0}, {v6_fd_, POLLIN, 0}}};
    const nfds_t count = v6_fd_ >= 0 ? 3 : 2;
    if (::poll(fds.data(), count, -1) < 0) continue;
    if (fds[0].revents != 0) return;
    // Accept everything pending on both sockets before serving, so sync() sees earlier
    // connections counted whichever socket they came in on.
    std::vector<int> accepted;
    for (nfds_t i = 1; i < count; ++i) {
      if ((fds[i].revents & POLLIN) == 0) continue;
      const int c = ::accept4(fds[i].fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0) accepted.push_back(c);
    }
    {
      std::lock_guard lock(mutex_);
      accepted_ += static_cast<int>(accepted.size());
    }
    accepted_cv_.notify_all();
    for (int c : accepted) {
      serve(c);
      ::close(c);
    }
  }
}

void loopback_http_server::serve(int fd) {
  std::string head;
  std::array<char, 4096> buf{};
  while (head.find("\r\n\r\n") == std::string::npos) {
    std::array<pollfd, 2> p{{{fd, POLLIN, 0}, {wake_read_, POLLIN, 0}}};
    if (::poll(p.data(), 2, k_io_timeout_ms) <= 0 || p[1].revents != 0) return;
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n <= 0) return;
    head.append(buf.data(), static_cast<std::size_t>(n));
  }
  http_request_seen request;
  request.head = head.substr(0, head.find("\r\n\r\n"));
  const auto sp1 = head.find(' ');
  const auto sp2 = head.find(' ', sp1 + 1);
  request.method = head.substr(0, sp1);
  request.path = head.substr(sp1 + 1, sp2 - sp1 - 1);
  if (request.path == "/__sync") {
    write_all(fd, http_response_text(204, "text/plain", ""));
    return;
  }
  {
    std::lock_guard lock(mutex_);
    requests_.push_back(request);
  }
  const auto response = handler_(request);
  if (!response) {
    // Hold the connection until the server stops; the client gives up first.
    pollfd p{wake_read_, POLLIN, 0};
    ::poll(&p, 1, -1);
    return;
  }
  write_all(fd, *response);
}

std::string http_response_text(int status, const std::string& content_type, const std::string& body,
                               const std::string& extra_headers, bool length) {
  std::string r = "HTTP/1.1 " + std::to_string(status) + " X\r\n";
  if (!content_type.empty()) r += "Content-Type: " + content_type + "\r\n";
  if (length) r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  r += "Connection: close\r\n" + extra_headers + "\r\n" + body;
  return r;
}

}  // namespace grok::testing
