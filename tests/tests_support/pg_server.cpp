#include "tests_support/pg_server.h"

#include <libpq-fe.h>
#include <pwd.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace grok::testing {
namespace {

namespace fs = std::filesystem;

constexpr std::chrono::seconds k_start_timeout{60};
constexpr std::chrono::seconds k_stop_timeout{30};
constexpr int k_start_attempts = 3;

// The newest /usr/lib/postgresql/<major>/bin that has initdb.
std::string find_bin_dir() {
  std::string best;
  int best_major = -1;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const auto name = entry.path().filename().string();
    int major = 0;
    try {
      major = std::stoi(name);
    } catch (const std::exception&) {
      continue;
    }
    if (major > best_major && fs::exists(entry.path() / "bin" / "initdb")) {
      best_major = major;
      best = (entry.path() / "bin").string();
    }
  }
  if (best.empty()) {
    throw std::runtime_error(
        "PostgreSQL not found under /usr/lib/postgresql (apt-get install postgresql)");
  }
  return best;
}

// The command prefix that runs a PostgreSQL program as its owner: nothing when we are not
// root, else setpriv to the `postgres` user (which execs in place).
std::vector<std::string> as_owner() {
  if (::geteuid() != 0) return {};
  return {"/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"};
}

// Gives a directory to the `postgres` user when we are root.
void hand_over(const fs::path& dir) {
  if (::geteuid() != 0) return;
  const passwd* pw = ::getpwnam("postgres");
  if (pw == nullptr) throw std::runtime_error("no postgres user (apt-get install postgresql)");
  if (::chown(dir.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
    throw std::runtime_error("chown " + dir.string() + " failed");
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool accepts_connections(const std::string& url) { return PQping(url.c_str()) == PQPING_OK; }

}  // namespace

// The server of a test that was killed outright (a ctest timeout) outlives it: as root
// it runs as another user, which clears the parent-death signal that child_process sets.
// Such an orphan (its parent is now init) serving a data directory under a test temp dir
// is stopped before a new cluster starts, so that a killed run does not leave servers
// behind for the next. A live test's server has the live test as its parent.
namespace {

void stop_orphaned_test_servers() {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const auto name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream cmdline(entry.path() / "cmdline");
    std::string args((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
    if (args.find("/postgres") == std::string::npos ||
        args.find(std::string("-D") + '\0' + (fs::temp_directory_path() / "grok-test-").string()) ==
            std::string::npos) {
      continue;
    }
    std::ifstream stat(entry.path() / "stat");
    std::string stat_text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto close_paren = stat_text.rfind(')');
    if (close_paren == std::string::npos) continue;
    std::istringstream fields(stat_text.substr(close_paren + 2));
    char state = 0;
    int ppid = 0;
    fields >> state >> ppid;
    if (ppid == 1) ::kill(std::stoi(name), SIGQUIT);  // immediate shutdown
  }
}

}  // namespace

pg_server::pg_server() : bin_dir_(find_bin_dir()) {
  stop_orphaned_test_servers();
  // The temp dir itself is root's and 0700; the server's directories inside it are the
  // postgres user's, so it must be able to pass through.
  fs::permissions(dir_.path(),
                  fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  data_dir_ = (dir_.path() / "data").string();
  socket_dir_ = (dir_.path() / "sock").string();
  fs::create_directory(data_dir_);
  fs::create_directory(socket_dir_);
  hand_over(data_dir_);
  hand_over(socket_dir_);
  std::vector<std::string> initdb = as_owner();
  for (const auto& a :
       {bin_dir_ + "/initdb", std::string("-D"), data_dir_, std::string("-A"), std::string("trust"),
        std::string("-U"), std::string("postgres"), std::string("-E"), std::string("UTF8"),
        std::string("--no-sync"), std::string("--no-instructions")}) {
    initdb.push_back(a);
  }
  const auto out =
      run_program(initdb, {{"LC_ALL", "C.UTF-8"}}, std::nullopt, std::chrono::seconds(120));
  if (out.exit_code != 0) throw std::runtime_error("initdb failed: " + out.err + out.out);
  start_on_free_port(
      [this](int port) {
        port_ = port;
        launch();
      },
      k_start_attempts);
}

pg_server::~pg_server() { stop(); }

std::string pg_server::url(const std::string& database) const {
  return "postgres://postgres@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

std::string pg_server::create_database(const std::string& name) {
  pg_exec(url(), "CREATE DATABASE \"" + name + "\"");
  return url(name);
}

void pg_server::stop() {
  if (!process_) return;
  process_->send_signal(SIGINT);  // fast shutdown: roll back open transactions, then exit
  if (!process_->wait(k_stop_timeout)) {
    process_->send_signal(SIGKILL);
    (void)process_->wait(k_stop_timeout);
  }
  process_.reset();
}

void pg_server::start() {
  if (process_) return;
  launch();
}

std::string pg_server::log_text() const { return read_file((dir_.path() / "server.log").string()); }

void pg_server::launch() {
  std::vector<std::string> argv = as_owner();
  for (const auto& a :
       {bin_dir_ + "/postgres", std::string("-D"), data_dir_, std::string("-p"),
        std::to_string(port_), std::string("-k"), socket_dir_, std::string("-c"),
        std::string("listen_addresses=127.0.0.1"), std::string("-c"), std::string("fsync=off"),
        std::string("-c"), std::string("logging_collector=off")}) {
    argv.push_back(a);
  }
  // The log goes to a file the test can show; stderr of the child would fill its pipe.
  argv.insert(argv.end(), {"-c", "log_destination=stderr"});
  const std::string log = (dir_.path() / "server.log").string();
  { std::ofstream truncate(log); }
  // postgres writes its log to stderr; run it through sh so stderr goes to the file, with
  // exec so our child is still the server itself.
  std::string command = "exec";
  for (const auto& a : argv) command += " '" + a + "'";
  command += " 2>>'" + log + "'";
  auto child =
      std::make_unique<child_process>(std::vector<std::string>{"/bin/sh", "-c", command},
                                      std::map<std::string, std::string>{{"LC_ALL", "C.UTF-8"}});
  const auto deadline = std::chrono::steady_clock::now() + k_start_timeout;
  while (log_text().find("ready to accept connections") == std::string::npos ||
         !accepts_connections(url())) {
    // wait() doubles as the pause between checks: it returns early only if it exited.
    if (child->wait(std::chrono::milliseconds(50))) {
      throw std::runtime_error("postgres exited while starting: " + log_text());
    }
    if (std::chrono::steady_clock::now() > deadline) {
      child->send_signal(SIGKILL);
      (void)child->wait(k_stop_timeout);
      throw std::runtime_error("postgres did not start in time: " + log_text());
    }
  }
  process_ = std::move(child);
}

std::string pg_exec(const std::string& url, const std::string& sql) {
  PGconn* conn = PQconnectdb(url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn);
    PQfinish(conn);
    throw std::runtime_error("connecting to PostgreSQL: " + message);
  }
  PGresult* res = PQexec(conn, sql.c_str());
  const auto status = PQresultStatus(res);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    std::string message = PQresultErrorMessage(res);
    PQclear(res);
    PQfinish(conn);
    throw std::runtime_error(sql.substr(0, 80) + ": " + message);
  }
  std::string first;
  if (status == PGRES_TUPLES_OK && PQntuples(res) > 0 && PQnfields(res) > 0) {
    first = PQgetvalue(res, 0, 0);
  }
  PQclear(res);
  PQfinish(conn);
  return first;
}

}  // namespace grok::testing
