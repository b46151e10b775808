// A tiny HTTP/1.1 server for the network tools' tests, listening on 127.0.0.1 and (when the
// machine has it) ::1 on the same port, and nowhere else. One thread, one request per
// connection ("Connection: close"), answers scripted by a handler.
//
// Thread-safety: the handler runs on the server thread; the accessors may be called from
// any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace grok::testing {

struct http_request_seen {
  std::string method;
  std::string path;
  std::string head;  // request line and headers as received
};

class loopback_http_server {
 public:
  // The raw response bytes for a request, or nullopt to hold the connection open without
  // answering until the server is destroyed.
  using handler = std::function<std::optional<std::string>(const http_request_seen&)>;

  explicit loopback_http_server(handler h);
  ~loopback_http_server();
  loopback_http_server(const loopback_http_server&) = delete;
  loopback_http_server& operator=(const loopback_http_server&) = delete;

  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] bool has_ipv6() const { return v6_fd_ >= 0; }
  // "http://127.0.0.1:PORT" + path.
  [[nodiscard]] std::string url(const std::string& path = "/") const;

  // Connections accepted so far, not counting sync()'s own. Exact only after sync().
  [[nodiscard]] int connections() const;
  // Waits until at least `n` connections were accepted; false after `timeout`.
  bool wait_for_connections(int n, std::chrono::milliseconds timeout);
  [[nodiscard]] std::vector<http_request_seen> requests() const;

  // Makes one request of its own and waits for the answer. The server accepts in order,
  // so any connection made before sync() was called has been accepted when it returns:
  // after it, connections() == 0 proves nothing connected.
  void sync();

 private:
  void run();
  void serve(int fd);

  handler handler_;
  int v4_fd_ = -1;
  int v6_fd_ = -1;
  int wake_read_ = -1;
  int wake_write_ = -1;
  int port_ = 0;

  mutable std::mutex mutex_;
  std::condition_variable accepted_cv_;
  int accepted_ = 0;                         // guarded by mutex_
  int syncs_ = 0;                            // guarded by mutex_
  std::vector<http_request_seen> requests_;  // guarded by mutex_
  std::thread thread_;
};

// "HTTP/1.1 <status> X\r\n" with Content-Type, Content-Length (unless `length` is false:
// then the body ends when the connection closes), Connection: close and `extra_headers`
// (each ending in "\r\n").
std::string http_response_text(int status, const std::string& content_type, const std::string& body,
                               const std::string& extra_headers = "", bool length = true);

}  // namespace grok::testing
