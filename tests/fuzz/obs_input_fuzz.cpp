// Fuzzes the two places where observability reads bytes it did not write itself: the W3C
// traceparent header a caller sends on POST /v1/runs, and the audit log files that
// `grok audit verify` reads after anyone may have edited them.
//
// The first input byte picks the target:
//   0: parse_traceparent; a parsed context formats to a header that parses back to it.
//   1: parse_sealed_line on one line; a parsed line's hash check never fails loudly.
//   2: the rest is written as an audit file and the whole verifier walks it, keyed and
//      unkeyed; it must report intact or name a problem with a line inside the file.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include <unistd.h>

#include "obs/audit_format.h"
#include "obs/audit_verify.h"
#include "obs/trace_context.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void fuzz_traceparent(std::string_view text) {
  auto parsed = grok::obs::parse_traceparent(text);
  if (!parsed) return;
  check(grok::obs::is_trace_id(parsed->trace_id) && grok::obs::is_span_id(parsed->span_id));
  auto again = grok::obs::parse_traceparent(grok::obs::format_traceparent(*parsed));
  check(again.has_value() && *again == *parsed);
}

void fuzz_line(std::string_view text) {
  auto line = grok::obs::parse_sealed_line(text);
  if (!line) return;
  (void)grok::obs::hash_matches(*line, "");
  (void)grok::obs::hash_matches(*line, "fuzz-secret");
}

void fuzz_verify(std::string_view text) {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() /
             ("grok-obs-fuzz-" + std::to_string(static_cast<long>(::getpid())));
    std::filesystem::create_directories(d);
    // libFuzzer ends the process with exit(): remove the directory then.
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(
          std::filesystem::temp_directory_path() /
              ("grok-obs-fuzz-" + std::to_string(static_cast<long>(::getpid()))),
          ec);
    });
    return d;
  }();
  {
    std::ofstream out(dir / "audit-000001-20261201.jsonl", std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
  }
  for (std::string_view secret : {std::string_view{}, std::string_view{"fuzz-secret"}}) {
    auto report = grok::obs::verify_audit_log(dir.string(), secret);
    if (!report || report->intact()) continue;
    check(report->problem->line >= 1 && !report->problem->reason.empty());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      fuzz_traceparent(rest);
      break;
    case 1:
      fuzz_line(rest);
      break;
    default:
      fuzz_verify(rest);
      break;
  }
  return 0;
}
