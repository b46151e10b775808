#include "tests_support/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

extern char** environ;

namespace grok::testing {

int pick_free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("could not pick a free port");
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

int start_on_free_port(const std::function<void(int)>& start, int attempts) {
  for (int attempt = 1;; ++attempt) {
    const int port = pick_free_port();
    try {
      start(port);
      return port;
    } catch (const std::runtime_error&) {
      if (attempt >= attempts) throw;
    }
  }
}
namespace {

using clock_type = std::chrono::steady_clock;

std::vector<std::string> merged_env(const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> all;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos) all[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : extra) all[k] = v;
  std::vector<std::string> out;
  for (const auto& [k, v] : all) out.push_back(k + "=" + v);
  return out;
}

// Spawns argv with stdout and stderr on pipes; returns the pid.
pid_t spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
            const std::optional<std::string>& cwd, int& out_fd, int& err_fd) {
  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe failed");
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // A test that dies (an ASan abort, a crash) takes its servers with it instead of
    // leaving them running. (The signal follows the forking thread: tests spawn from the
    // thread that runs the test.)
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(125);  // the parent died before prctl
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    if (cwd && chdir(cwd->c_str()) != 0) _exit(126);
    auto env_strings = merged_env(env);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<char*> envp;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  out_fd = out_pipe[0];
  err_fd = err_pipe[0];
  return pid;
}

// Reads what is available on fd within `timeout`; false on EOF.
bool read_some(int fd, std::string& into, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  int ready = poll(&p, 1, static_cast<int>(timeout.count()));
  if (ready <= 0) return ready == 0;
  char buf[4096];
  auto n = read(fd, buf, sizeof buf);
  if (n <= 0) return false;
  into.append(buf, static_cast<std::size_t>(n));
  return true;
}

}  // namespace

std::string program_path(const std::string& name) {
  // Test programs live in <build>/tests/, the grok binary in <build>/; GROK_BINARY and
  // GROK_TEST_HELPERS override that layout.
  auto self = std::filesystem::read_symlink("/proc/self/exe").parent_path();
  if (name == "grok") {
    const char* p = std::getenv("GROK_BINARY");
    return p != nullptr ? std::string(p) : (self.parent_path() / "grok").string();
  }
  const char* dir = std::getenv("GROK_TEST_HELPERS");
  return (dir != nullptr ? std::filesystem::path(dir) : self).append(name).string();
}

run_output run_program(const std::vector<std::string>& argv,
                       const std::map<std::string, std::string>& env,
                       const std::optional<std::string>& cwd, std::chrono::seconds timeout) {
  child_process child(argv, env, cwd);
  run_output out;
  auto deadline = clock_type::now() + timeout;
  // Read both pipes until the child exits, so a chatty child never blocks on a full pipe.
  std::optional<int> code;
  while (!code) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
    if (left.count() <= 0) break;
    out.out += child.read_stdout(1 << 20, std::chrono::milliseconds(20));
    code = child.wait(std::chrono::milliseconds(0));
  }
  if (!code) {
    child.send_signal(SIGKILL);
    code = child.wait(std::chrono::milliseconds(5000));
    out.err = "timed out; ";
  }
  out.out += child.read_stdout(1 << 24, std::chrono::milliseconds(0));
  out.exit_code = code.value_or(-1);
  out.signal = child.last_signal();
  out.err += child.stderr_text();
  return out;
}

child_process::child_process(const std::vector<std::string>& argv,
                             const std::map<std::string, std::string>& env,
                             const std::optional<std::string>& cwd) {
  pid_ = spawn(argv, env, cwd, out_fd_, err_fd_);
}

child_process::~child_process() {
  if (!reaped_) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  close(out_fd_);
  close(err_fd_);
}

bool child_process::wait_for_line(int fd, std::string& buffer, const std::string& needle,
                                  std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  while (buffer.find(needle) == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
    if (left.count() <= 0) return false;
    if (!read_some(fd, buffer, left)) return buffer.find(needle) != std::string::npos;
  }
  return true;
}

bool child_process::wait_for_stdout_line(const std::string& needle,
                                         std::chrono::milliseconds timeout) {
  return wait_for_line(out_fd_, out_, needle, timeout);
}

bool child_process::wait_for_stderr_line(const std::string& needle,
                                         std::chrono::milliseconds timeout) {
  return wait_for_line(err_fd_, err_, needle, timeout);
}

std::string child_process::read_stdout(std::size_t n, std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  drain_stderr();
  while (out_.size() < n) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
    if (!read_some(out_fd_, out_, std::max(left, std::chrono::milliseconds(0))) ||
        left.count() <= 0)
      break;
  }
  auto take = std::min(n, out_.size());
  std::string result = out_.substr(0, take);
  out_.erase(0, take);
  return result;
}

void child_process::drain_stderr() {
  while (true) {
    pollfd p{err_fd_, POLLIN, 0};
    if (poll(&p, 1, 0) <= 0) return;
    char buf[4096];
    auto got = read(err_fd_, buf, sizeof buf);
    if (got <= 0) return;
    err_.append(buf, static_cast<std::size_t>(got));
  }
}

void child_process::send_signal(int sig) {
  if (!reaped_) kill(pid_, sig);
}

std::optional<int> child_process::wait(std::chrono::milliseconds timeout) {
  if (reaped_) return exit_code_;
  auto deadline = clock_type::now() + timeout;
  while (!reaped_) {
    drain_stderr();
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      drain_stderr();
      if (WIFSIGNALED(status)) {
        signal_ = WTERMSIG(status);
        exit_code_ = -1;
      } else {
        exit_code_ = WEXITSTATUS(status);
      }
      return exit_code_;
    }
    if (clock_type::now() >= deadline) return std::nullopt;
    // Wake when the child writes or closes its stderr (it closes at exit), at most 10 ms.
    pollfd p{err_fd_, POLLIN, 0};
    poll(&p, 1, 10);
  }
  return std::nullopt;
}

}  // namespace grok::testing
