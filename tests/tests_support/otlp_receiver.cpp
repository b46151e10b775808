#include "tests_support/otlp_receiver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>

namespace grok::testing {
namespace {

constexpr std::size_t k_max_head_bytes = 64 * 1024;
constexpr std::size_t k_max_body_bytes = 32 * 1024 * 1024;
constexpr int k_poll_ms = 50;
constexpr int k_io_timeout_ms = 10'000;

int loopback_socket(bool listening) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = 0;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      (listening && ::listen(fd, 16) != 0)) {
    ::close(fd);
    throw std::runtime_error("bind/listen on 127.0.0.1 failed");
  }
  return fd;
}

int port_of(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) std::abort();
  return ntohs(a.sin_port);
}

// Reads what is available into `buf`; false on close, error or a quiet peer.
bool read_some(int fd, std::string& buf) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, k_io_timeout_ms) <= 0) return false;
  char chunk[16 * 1024];
  const auto n = ::recv(fd, chunk, sizeof chunk, 0);
  if (n <= 0) return false;
  buf.append(chunk, static_cast<std::size_t>(n));
  return true;
}

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const auto n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return std::string(s);
}

std::string reason_of(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

}  // namespace

otlp_receiver::otlp_receiver() {
  listen_fd_ = loopback_socket(true);
  port_ = port_of(listen_fd_);
  thread_ = std::thread([this] { serve(); });
}

otlp_receiver::~otlp_receiver() { stop(); }

std::string otlp_receiver::base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

void otlp_receiver::set_status(int status) { status_ = status; }

void otlp_receiver::stop() {
  if (stop_.exchange(true)) return;
  if (thread_.joinable()) thread_.join();
  ::close(listen_fd_);
}

std::vector<otlp_request> otlp_receiver::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

std::vector<received_span> otlp_receiver::spans() const {
  std::vector<received_span> out;
  for (const auto& r : requests()) {
    auto doc = nlohmann::json::parse(r.body, nullptr, false);
    if (!doc.is_object() || !doc.contains("resourceSpans")) continue;
    for (const auto& rs : doc["resourceSpans"]) {
      auto attrs = rs.value("resource", nlohmann::json::object())
                       .value("attributes", nlohmann::json::array());
      for (const auto& ss : rs.value("scopeSpans", nlohmann::json::array())) {
        for (const auto& s : ss.value("spans", nlohmann::json::array())) {
          out.push_back({s, attrs, ss.value("scope", nlohmann::json::object())});
        }
      }
    }
  }
  return out;
}

bool otlp_receiver::wait_for_spans(
    const std::function<bool(const std::vector<received_span>&)>& done,
    std::chrono::milliseconds timeout) const {
  const auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done(spans())) return true;
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling a condition
  }
}

void otlp_receiver::serve() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, k_poll_ms) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    handle(fd);
    ::close(fd);
  }
}

void otlp_receiver::handle(int fd) {
  std::string buf;
  std::size_t head_end = std::string::npos;
  while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
    if (buf.size() > k_max_head_bytes || !read_some(fd, buf)) return;
  }
  otlp_request req;
  std::string_view head(buf.data(), head_end);
  auto line_end = head.find("\r\n");
  auto request_line = head.substr(0, line_end);
  auto sp1 = request_line.find(' ');
  auto sp2 = request_line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos) return;
  req.method = std::string(request_line.substr(0, sp1));
  req.path = std::string(request_line.substr(sp1 + 1, sp2 - sp1 - 1));
  std::size_t pos = line_end == std::string_view::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    auto end = head.find("\r\n", pos);
    if (end == std::string_view::npos) end = head.size();
    auto line = head.substr(pos, end - pos);
    if (auto colon = line.find(':'); colon != std::string_view::npos) {
      req.headers[lower(std::string(line.substr(0, colon)))] = trim(line.substr(colon + 1));
    }
    pos = end + 2;
  }
  std::size_t length = 0;
  if (auto it = req.headers.find("content-length"); it != req.headers.end()) {
    length = std::strtoull(it->second.c_str(), nullptr, 10);
  }
  if (length > k_max_body_bytes) return;
  if (auto it = req.headers.find("expect");
      it != req.headers.end() && lower(it->second) == "100-continue") {
    write_all(fd, "HTTP/1.1 100 Continue\r\n\r\n");
  }
  buf.erase(0, head_end + 4);
  while (buf.size() < length) {
    if (!read_some(fd, buf)) return;
  }
  req.body = buf.substr(0, length);
  const int status = status_;
  {
    std::lock_guard lock(mutex_);
    requests_.push_back(std::move(req));
  }
  const std::string body = status == 200 ? "{}" : R"({"message":"unavailable"})";
  write_all(fd, "HTTP/1.1 " + std::to_string(status) + " " + reason_of(status) +
                    "\r\nContent-Type: application/json\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
}

refused_port::refused_port() : fd_(loopback_socket(false)), port_(port_of(fd_)) {}
refused_port::~refused_port() { ::close(fd_); }
std::string refused_port::base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

nlohmann::json otlp_attribute(const nlohmann::json& attributes, const std::string& key) {
  if (!attributes.is_array()) return nullptr;
  for (const auto& kv : attributes) {
    if (kv.is_object() && kv.value("key", "") == key && kv.contains("value")) return kv["value"];
  }
  return nullptr;
}

}  // namespace grok::testing
