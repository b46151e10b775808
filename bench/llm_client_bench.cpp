// bench/llm_client: the model adapter's own costs.
//
//   stream parser      MB/s of a large recorded OpenAI-style stream through sse_parser and
//                      stream_accumulator, fed in 4 KiB pieces as a socket would deliver it
//   per-call overhead  openai_client.complete() against a zero-latency canned server on
//                      127.0.0.1 (streaming and plain), with two baselines timed in the
//                      same run: the same request with raw libcurl (reused handle, no
//                      parsing) and with the curl command-line tool
//
// usage: llm_client_bench [--calls N] [--stream-mb N]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "llm/openai_client.h"
#include "llm/openai_wire.h"
#include "llm/sse_parser.h"
#include "llm/stream_accumulator.h"

using namespace grok;
using steady = std::chrono::steady_clock;

namespace {

std::string chunk_json(const std::string& delta) {
  return R"({"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1,"model":"m",)"
         R"("system_fingerprint":"fp","choices":[{"index":0,"delta":)" +
         delta + R"(,"logprobs":null,"finish_reason":null}]})";
}

std::string make_stream(std::size_t target_bytes) {
  std::string out;
  while (out.size() < target_bytes)
    out += "data: " + chunk_json(R"({"content":"token "})") + "\n\n";
  out += "data: " + chunk_json("{}") + "\n\n";
  out +=
      R"(data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1,"model":"m","choices":[],)"
      R"("usage":{"prompt_tokens":10,"completion_tokens":20,"total_tokens":30}})"
      "\n\ndata: [DONE]\n\n";
  return out;
}

// A canned HTTP/1.1 server: answers every request on a kept-alive connection at once.
class canned_server {
 public:
  explicit canned_server(std::string stream_body, std::string json_body)
      : stream_(std::move(stream_body)), json_(std::move(json_body)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd_, 64) != 0)
      std::exit(1);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { accept_loop(); });
  }
  ~canned_server() {
    stopping_ = true;
    shutdown(fd_, SHUT_RDWR);
    {
      // Clients keep their connections alive; wake the threads blocked reading them.
      std::lock_guard lock(conns_mutex_);
      for (int c : conn_fds_) shutdown(c, SHUT_RDWR);
    }
    thread_.join();
    close(fd_);
  }
  [[nodiscard]] int port() const { return port_; }

 private:
  void accept_loop() {
    std::vector<std::thread> conns;
    while (!stopping_) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) break;
      {
        std::lock_guard lock(conns_mutex_);
        conn_fds_.push_back(c);
      }
      conns.emplace_back([this, c] { serve(c); });
    }
    for (auto& t : conns) t.join();
  }
  void serve(int c) {
    std::string buf;
    char tmp[16384];
    while (true) {
      auto head_end = buf.find("\r\n\r\n");
      if (head_end == std::string::npos) {
        auto n = read(c, tmp, sizeof tmp);
        if (n <= 0) break;
        buf.append(tmp, static_cast<std::size_t>(n));
        continue;
      }
      std::size_t length = 0;
      auto cl = buf.find("Content-Length: ");
      if (cl != std::string::npos && cl < head_end)
        length = std::strtoul(buf.c_str() + cl + 16, nullptr, 10);
      while (buf.size() < head_end + 4 + length) {
        auto n = read(c, tmp, sizeof tmp);
        if (n <= 0) {
          close(c);
          return;
        }
        buf.append(tmp, static_cast<std::size_t>(n));
      }
      const bool stream = buf.find("\"stream\":true") != std::string::npos;
      const std::string& body = stream ? stream_ : json_;
      std::string resp = "HTTP/1.1 200 OK\r\nContent-Type: " +
                         std::string(stream ? "text/event-stream" : "application/json") +
                         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
      for (std::size_t off = 0; off < resp.size();) {
        auto n = write(c, resp.data() + off, resp.size() - off);
        if (n <= 0) break;
        off += static_cast<std::size_t>(n);
      }
      buf.erase(0, head_end + 4 + length);
    }
    close(c);
  }

  std::string stream_;
  std::string json_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::mutex conns_mutex_;
  std::vector<int> conn_fds_;  // guarded by conns_mutex_
  std::thread thread_;
};

double parser_mb_per_s(const std::string& stream, int rounds) {
  std::size_t chunks = 0;
  auto start = steady::now();
  for (int r = 0; r < rounds; ++r) {
    llm::sse_parser parser;
    llm::stream_accumulator acc;
    std::vector<llm::sse_event> events;
    for (std::size_t off = 0; off < stream.size(); off += 4096) {
      if (!parser.feed(std::string_view(stream).substr(off, 4096), events)) std::exit(1);
      for (auto& e : events) {
        if (e.data != "[DONE]" && !acc.add_chunk(e.data)) std::exit(1);
      }
      events.clear();
    }
    chunks += acc.chunks();
  }
  const double s = std::chrono::duration<double>(steady::now() - start).count();
  if (chunks == 0) std::exit(1);
  return static_cast<double>(stream.size()) * rounds / s / 1e6;
}

std::size_t discard(char*, std::size_t size, std::size_t n, void*) { return size * n; }

}  // namespace

int main(int argc, char** argv) {
  int calls = 2000;
  int stream_mb = 8;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--calls" && i + 1 < argc) {
      calls = std::atoi(argv[++i]);
    } else if (a == "--stream-mb" && i + 1 < argc) {
      stream_mb = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: llm_client_bench [--calls N] [--stream-mb N]\n");
      return a == "--help" ? 0 : 2;
    }
  }
  if (calls < 10 || stream_mb < 1) return 2;

  const auto big = make_stream(static_cast<std::size_t>(stream_mb) * 1024 * 1024);
  std::printf("bench/llm_client\n");
  std::printf(
      "  stream parser (sse + chunk assembly, 4 KiB pieces): %8.1f MB/s over a %d MiB stream\n",
      parser_mb_per_s(big, 3), stream_mb);
  std::fflush(stdout);

  const auto small_stream = make_stream(600);
  const std::string json_body =
      R"({"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,)"
      R"("message":{"role":"assistant","content":"The answer is 42."},"finish_reason":"stop"}],)"
      R"("usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}})";
  canned_server server(small_stream, json_body);
  const std::string base = "http://127.0.0.1:" + std::to_string(server.port()) + "/v1";

  llm::client_settings settings;
  settings.base_url = base;
  llm::openai_client client(settings);
  llm::chat_request req;
  req.model = "m";
  req.messages = {{"user", "What is six times seven?", {}, std::nullopt}};

  auto time_client = [&](bool stream) {
    req.stream = stream;
    auto start = steady::now();
    for (int i = 0; i < calls; ++i) {
      if (!client.complete(req, {})) std::exit(1);
    }
    return std::chrono::duration<double, std::micro>(steady::now() - start).count() / calls;
  };
  (void)time_client(false);  // warm the connection
  const double ours_plain = time_client(false);
  const double ours_stream = time_client(true);

  // Baseline 1: the same request body through a reused libcurl handle, nothing parsed.
  req.stream = false;
  const auto body = *llm::build_request_body(req);
  CURL* easy = curl_easy_init();
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  const std::string url = base + "/chat/completions";
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard);
  auto start = steady::now();
  for (int i = 0; i < calls; ++i) {
    if (curl_easy_perform(easy) != CURLE_OK) std::exit(1);
  }
  const double raw =
      std::chrono::duration<double, std::micro>(steady::now() - start).count() / calls;
  curl_slist_free_all(headers);
  curl_easy_cleanup(easy);

  // Baseline 2: the curl command-line tool, one process per request.
  const int cli_calls = std::max(10, calls / 20);
  const std::string cmd =
      "curl -s -o /dev/null -H 'Content-Type: application/json' --data-binary '" + body + "' " +
      url;
  start = steady::now();
  for (int i = 0; i < cli_calls; ++i) {
    if (std::system(cmd.c_str()) != 0) std::exit(1);
  }
  const double cli =
      std::chrono::duration<double, std::micro>(steady::now() - start).count() / cli_calls;

  std::printf("  per call, zero-latency server on 127.0.0.1 (%d calls):\n", calls);
  std::printf("    raw libcurl, reused handle (baseline)      %8.1f us\n", raw);
  std::printf("    curl command line, %4d calls (baseline)    %8.1f us\n", cli_calls, cli);
  std::printf(
      "    openai_client, plain JSON                  %8.1f us  (+%.1f us over raw libcurl)\n",
      ours_plain, ours_plain - raw);
  std::printf(
      "    openai_client, streaming                   %8.1f us  (+%.1f us over raw libcurl)\n",
      ours_stream, ours_stream - raw);
  return 0;
}
