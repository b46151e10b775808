#include "tests_support/redis_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace grok::testing {
namespace {

using namespace std::chrono_literals;

constexpr auto k_start_timeout = 20s;
constexpr auto k_stop_timeout = 20s;
constexpr int k_start_attempts = 5;  // another process may take the free port first

std::string redis_server_path() {
  if (const char* p = std::getenv("GROK_REDIS_SERVER"); p != nullptr) return p;
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    auto candidate = std::filesystem::path(dir) / "redis-server";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  throw std::runtime_error("redis-server not found on PATH (apt-get install redis-server)");
}

sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

}  // namespace

redis_server::redis_server(std::vector<std::string> extra_args)
    : extra_args_(std::move(extra_args)) {
  start_on_free_port(
      [this](int port) {
        port_ = port;
        launch();
      },
      k_start_attempts);
}

redis_server::~redis_server() { stop(); }

std::string redis_server::url(const std::string& password) const {
  return "redis://" + (password.empty() ? "" : ":" + password + "@") +
         "127.0.0.1:" + std::to_string(port_);
}

void redis_server::stop() {
  if (!process_) return;
  process_->send_signal(SIGTERM);
  process_->send_signal(SIGCONT);  // a paused server acts on SIGTERM only once continued
  if (!process_->wait(k_stop_timeout)) {
    process_->send_signal(SIGKILL);
    (void)process_->wait(k_stop_timeout);
  }
  process_.reset();
}

void redis_server::pause() {
  if (process_) process_->send_signal(SIGSTOP);
}

void redis_server::resume() {
  if (process_) process_->send_signal(SIGCONT);
}

void redis_server::start() {
  if (process_) return;
  launch();
}

void redis_server::launch() {
  std::vector<std::string> argv = {redis_server_path(),
                                   "--bind",
                                   "127.0.0.1",
                                   "--port",
                                   std::to_string(port_),
                                   "--dir",
                                   dir_.path().string(),
                                   "--save",
                                   "",
                                   "--appendonly",
                                   "no",
                                   "--daemonize",
                                   "no",
                                   "--logfile",
                                   dir_.file("redis.log")};
  argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
  std::error_code ignored;
  std::filesystem::remove(dir_.file("redis.log"), ignored);  // a restart starts a new log
  auto child = std::make_unique<child_process>(argv);
  const auto deadline = std::chrono::steady_clock::now() + k_start_timeout;
  // Our own server is up once it logged readiness: something else that took the port in
  // the meantime might answer PING too.
  while (log_text().find("Ready to accept connections") == std::string::npos || !answers_ping()) {
    // wait() doubles as the pause between attempts: it returns early only if it exited.
    if (auto code = child->wait(10ms)) {
      throw std::runtime_error("redis-server exited with " + std::to_string(*code) + " on port " +
                               std::to_string(port_) + ":\n" + log_text() + child->stderr_text());
    }
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("redis-server did not answer PING on port " + std::to_string(port_) +
                               ":\n" + log_text());
    }
  }
  process_ = std::move(child);
}

bool redis_server::answers_ping() const {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  timeval tv{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  auto a = loopback(port_);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    constexpr std::string_view k_ping = "PING\r\n";
    if (::send(fd, k_ping.data(), k_ping.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(k_ping.size())) {
      char buf[64];
      const auto n = ::recv(fd, buf, sizeof buf, 0);
      const std::string reply(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
      ok = reply.starts_with("+PONG") || reply.starts_with("-NOAUTH");
    }
  }
  ::close(fd);
  return ok;
}

std::string redis_server::log_text() const {
  std::ifstream in(dir_.file("redis.log"));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace grok::testing
