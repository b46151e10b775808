// A small OTLP/HTTP receiver for tests: listens on 127.0.0.1 (a free port), keeps every
// POSTed body and answers 200 with "{}" (or the status it is told to), one request per
// connection. Plain POSIX sockets and a minimal HTTP/1.1 reader (request line, headers,
// Content-Length body): a Beast server would cost half a minute of compile time for
// what a test needs here.
//
// Thread-safety: every method may be called from any thread; requests are served on the
// receiver's own thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace grok::testing {

struct otlp_request {
  std::string method;
  std::string path;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// One span as a test reads it: the span's OTLP/JSON object with the resource attributes
// of its batch beside it.
struct received_span {
  nlohmann::json span;
  nlohmann::json resource_attributes;  // the OTLP key/value array
  nlohmann::json scope;
};

class otlp_receiver {
 public:
  otlp_receiver();
  ~otlp_receiver();
  otlp_receiver(const otlp_receiver&) = delete;
  otlp_receiver& operator=(const otlp_receiver&) = delete;

  [[nodiscard]] int port() const { return port_; }
  // "http://127.0.0.1:PORT" (no path: the exporter appends /v1/traces).
  [[nodiscard]] std::string base_url() const;
  // Requests after this call are answered with `status` (200 restores normal service).
  void set_status(int status);
  [[nodiscard]] std::vector<otlp_request> requests() const;
  // Every span of every request so far, in the order received. Bodies that are not JSON
  // are skipped.
  [[nodiscard]] std::vector<received_span> spans() const;
  // Polls until `done(spans())` is true or `timeout` passes; returns the last answer.
  bool wait_for_spans(const std::function<bool(const std::vector<received_span>&)>& done,
                      std::chrono::milliseconds timeout) const;
  // Closes the listening socket and ends the thread; later connections are refused.
  void stop();

 private:
  void serve();
  void handle(int fd);

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> status_{200};
  mutable std::mutex mutex_;
  std::vector<otlp_request> requests_;  // guarded by mutex_
  std::thread thread_;
};

// A loopback port held bound but never listening, for this object's life: a connection
// to it is refused at once (a collector that is down).
class refused_port {
 public:
  refused_port();
  ~refused_port();
  refused_port(const refused_port&) = delete;
  refused_port& operator=(const refused_port&) = delete;
  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] std::string base_url() const;

 private:
  int fd_ = -1;
  int port_ = 0;
};

// The value of attribute `key` in an OTLP key/value array (the AnyValue object), or null.
[[nodiscard]] nlohmann::json otlp_attribute(const nlohmann::json& attributes,
                                            const std::string& key);

}  // namespace grok::testing
