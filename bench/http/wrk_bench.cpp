// bench/http/wrk: request throughput and tail latency of a real `grok serve`, measured
// with wrk from Debian at 64 connections on loopback:
//   - GET /v1/runs/{id}  (auth, rate limit, a store read, the run and its steps as JSON)
//   - GET /healthz       (baseline in the same run: the transport with no auth and no store)
// Prints requests/s and p50/p99 latency of each.
//
// usage: wrk_bench [--duration SECONDS] [--connections N] [--threads N]
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <curl/curl.h>

extern char** environ;

namespace {

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "wrk_bench: %s\n", what.c_str());
  std::exit(1);
}

std::string run_capture(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) die("cannot run: " + command);
  std::array<char, 4096> buf{};
  while (auto n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  if (pclose(p) != 0) die("failed: " + command + "\n" + out);
  return out;
}

// A free loopback port (bound, read, released: the server binds it right after).
int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("bind failed");
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

std::size_t collect(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

long http(const std::string& method, const std::string& url, const std::string& key,
          const std::string& body, std::string* out) {
  CURL* h = curl_easy_init();
  curl_slist* headers = nullptr;
  const auto auth = "Authorization: Bearer " + key;
  headers = curl_slist_append(headers, auth.c_str());
  headers = curl_slist_append(headers, "Content-Type: application/json");
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
  if (method == "POST") curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.c_str());
  long status = 0;
  if (curl_easy_perform(h) == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(h);
  return status;
}

struct wrk_figures {
  double requests_per_s = 0;
  std::string p50, p99;
  std::string non_2xx = "0";
};

wrk_figures run_wrk(const std::string& url, const std::string& key, int threads, int connections,
                    int seconds) {
  const auto out = run_capture("wrk --latency -t" + std::to_string(threads) + " -c" +
                               std::to_string(connections) + " -d" + std::to_string(seconds) +
                               "s -H 'Authorization: Bearer " + key + "' '" + url + "' 2>&1");
  wrk_figures f;
  std::smatch m;
  if (std::regex_search(out, m, std::regex(R"(Requests/sec:\s+([0-9.]+))"))) {
    f.requests_per_s = std::stod(m[1].str());
  } else {
    die("no Requests/sec in wrk output:\n" + out);
  }
  if (std::regex_search(out, m, std::regex(R"(\n\s+50%\s+(\S+))"))) f.p50 = m[1].str();
  if (std::regex_search(out, m, std::regex(R"(\n\s+99%\s+(\S+))"))) f.p99 = m[1].str();
  if (std::regex_search(out, m, std::regex(R"(Non-2xx or 3xx responses:\s+(\d+))"))) {
    f.non_2xx = m[1].str();
  }
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  int seconds = 10, connections = 64, threads = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const int value = std::atoi(argv[i + 1]);
    if (flag == "--duration")
      seconds = value;
    else if (flag == "--connections")
      connections = value;
    else if (flag == "--threads")
      threads = value;
    else
      die("unknown flag " + flag + " (use --duration S --connections N --threads N)");
  }
  if (system("command -v wrk >/dev/null 2>&1") != 0) die("wrk is not installed (make bootstrap)");

  const auto dir =
      std::filesystem::temp_directory_path() / ("grok-wrk-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string grok = GROK_BINARY;
  const std::string data = (dir / "data").string();
  auto key = run_capture("'" + grok + "' --data-dir '" + data +
                         "' keys create --scope runs --name bench 2>/dev/null");
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();

  const int port = free_port();
  const std::string listen = "127.0.0.1:" + std::to_string(port);
  std::vector<std::string> args = {grok,    "--data-dir", data,   "--log-level", "warn",
                                   "serve", "--listen",   listen, "--workers",   "1"};
  std::vector<char*> argv_c;
  for (auto& a : args) argv_c.push_back(a.data());
  argv_c.push_back(nullptr);
  // No rate limit in the way, and a model server address that refuses at once.
  setenv("GROK_HTTP_RATE_PER_SECOND", "1000000", 1);
  setenv("GROK_HTTP_RATE_BURST", "10000000", 1);
  setenv("GROK_LLM_BASE_URL", "http://127.0.0.1:9/v1", 1);
  pid_t pid = 0;
  if (posix_spawn(&pid, grok.c_str(), nullptr, nullptr, argv_c.data(), environ) != 0) {
    die("cannot start " + grok);
  }
  const std::string base = "http://" + listen;
  std::string ignored;
  for (int i = 0; i < 500 && http("GET", base + "/healthz", "", "", &ignored) != 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  // One run with its steps (it fails at planning: no model server, which is fine here).
  std::string created;
  if (http("POST", base + "/v1/runs", key, R"({"input":"benchmark run"})", &created) != 201) {
    kill(pid, SIGKILL);
    die("could not create a run: " + created);
  }
  std::smatch m;
  if (!std::regex_search(created, m, std::regex(R"re("id"\s*:\s*"(run_[0-9A-Za-z]+)")re"))) {
    kill(pid, SIGKILL);
    die("no run id in: " + created);
  }
  const auto run_url = base + "/v1/runs/" + m[1].str();
  std::string body;
  http("GET", run_url, key, "", &body);

  std::printf("http: wrk, %d connections, %d threads, %d s each, against grok serve on loopback\n",
              connections, threads, seconds);
  auto baseline = run_wrk(base + "/healthz", key, threads, connections, seconds);
  std::printf("  GET /healthz (baseline)  %10.0f req/s  p50 %-9s p99 %-9s non-2xx %s\n",
              baseline.requests_per_s, baseline.p50.c_str(), baseline.p99.c_str(),
              baseline.non_2xx.c_str());
  auto runs = run_wrk(run_url, key, threads, connections, seconds);
  std::printf(
      "  GET /v1/runs/{id}        %10.0f req/s  p50 %-9s p99 %-9s non-2xx %s  (%.1f%% of "
      "baseline; body %zu bytes)\n",
      runs.requests_per_s, runs.p50.c_str(), runs.p99.c_str(), runs.non_2xx.c_str(),
      100.0 * runs.requests_per_s / baseline.requests_per_s, body.size());

  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}
