#include "obs/process_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace grok::obs {
namespace {

// /proc files report a size of 0, so they are read to their end rather than by size.
// Both files read here are a few hundred bytes; the cap only guards against surprises.
constexpr std::size_t k_max_proc_file = 64 * 1024;

result<std::string> read_proc_file(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(errc::io, std::string("cannot open ") + path);
  std::string text;
  char buffer[4096];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (text.size() > k_max_proc_file) return fail(errc::io, std::string(path) + " is too long");
  }
  return text;
}

template <typename T>
bool parse_number(std::string_view text, T& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

// The fields of /proc/self/stat after the command name, which is in parentheses and may
// itself hold spaces and parentheses: everything after the last ')'. fields[0] is field 3
// of proc(5) (the state).
std::vector<std::string_view> stat_fields(std::string_view stat) {
  std::vector<std::string_view> fields;
  const auto close = stat.rfind(')');
  if (close == std::string_view::npos) return fields;
  std::string_view rest = stat.substr(close + 1);
  while (!rest.empty()) {
    const auto start = rest.find_first_not_of(" \n");
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    const auto end = rest.find_first_of(" \n");
    fields.push_back(rest.substr(0, end));
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end);
  }
  return fields;
}

// The "btime" line of /proc/stat: the boot time in seconds since the epoch.
result<long long> boot_time() {
  auto text = read_proc_file("/proc/stat");
  if (!text) return tl::unexpected(text.error());
  std::istringstream lines(*text);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.starts_with("btime ")) continue;
    long long seconds = 0;
    if (parse_number(std::string_view(line).substr(6), seconds)) return seconds;
  }
  return fail(errc::io, "/proc/stat has no btime line");
}

double count_open_fds() {
  std::error_code ec;
  double n = 0;
  // The iterator's own descriptor is counted too, as in the Prometheus client libraries.
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    n += 1;
  }
  return n;
}

}  // namespace

result<process_figures> read_process_figures() {
  auto stat = read_proc_file("/proc/self/stat");
  if (!stat) return tl::unexpected(stat.error());
  const auto fields = stat_fields(*stat);
  // proc(5) field numbers: utime 14, stime 15, starttime 22, vsize 23, rss 24.
  auto field = [&fields](std::size_t number) -> std::string_view {
    return number - 3 < fields.size() ? fields[number - 3] : std::string_view{};
  };
  unsigned long long utime = 0, stime = 0, start_ticks = 0, vsize = 0;
  long long rss_pages = 0;
  if (!parse_number(field(14), utime) || !parse_number(field(15), stime) ||
      !parse_number(field(22), start_ticks) || !parse_number(field(23), vsize) ||
      !parse_number(field(24), rss_pages)) {
    return fail(errc::io, "cannot parse /proc/self/stat");
  }
  auto booted = boot_time();
  if (!booted) return tl::unexpected(booted.error());

  const auto ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const auto page = static_cast<double>(sysconf(_SC_PAGESIZE));
  process_figures f;
  f.cpu_seconds = static_cast<double>(utime + stime) / ticks;
  f.resident_memory_bytes = static_cast<double>(rss_pages) * page;
  f.virtual_memory_bytes = static_cast<double>(vsize);
  f.start_time_seconds = static_cast<double>(*booted) + static_cast<double>(start_ticks) / ticks;
  f.open_fds = count_open_fds();
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) f.max_fds = static_cast<double>(limit.rlim_cur);
  return f;
}

void update_process_metrics(registry& r) {
  auto& cpu =
      r.counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.");
  auto& rss = r.gauge("process_resident_memory_bytes", "Resident memory size in bytes.");
  auto& vsize = r.gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.");
  auto& start_time = r.gauge("process_start_time_seconds",
                             "Start time of the process since unix epoch in seconds.");
  auto& open_fds = r.gauge("process_open_fds", "Number of open file descriptors.");
  auto& max_fds = r.gauge("process_max_fds", "Maximum number of open file descriptors.");
  auto figures = read_process_figures();
  if (!figures) {
    for (auto* g : {&rss, &vsize, &start_time, &open_fds, &max_fds}) g->clear();
    return;
  }
  cpu.raise_to({}, figures->cpu_seconds);
  rss.set({}, figures->resident_memory_bytes);
  vsize.set({}, figures->virtual_memory_bytes);
  start_time.set({}, figures->start_time_seconds);
  open_fds.set({}, figures->open_fds);
  max_fds.set({}, figures->max_fds);
}

}  // namespace grok::obs
