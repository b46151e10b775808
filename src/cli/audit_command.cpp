// `grok audit verify`: checks the audit log's hash chain (obs/audit_verify.h) and prints a
// summary, or the first bad line.
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "obs/audit_verify.h"

namespace grok::cli {
namespace {

using json = nlohmann::json;

json to_json(const std::string& dir, const obs::audit_verify_report& r) {
  json out = {{"intact", r.intact()},
              {"dir", dir},
              {"files", r.files},
              {"lines", r.lines},
              {"events", r.events},
              {"first_audit_seq", r.first_audit_seq},
              {"last_audit_seq", r.last_audit_seq},
              {"first_ts", r.first_ts},
              {"last_ts", r.last_ts},
              {"keyed", r.keyed_lines > 0 && r.unkeyed_lines == 0},
              {"keyed_lines", r.keyed_lines},
              {"unkeyed_lines", r.unkeyed_lines},
              {"starts_after_rotation", r.starts_after_rotation},
              {"events_dropped", r.events_dropped},
              {"notes", r.notes}};
  if (r.problem) {
    out["problem"] = {{"file", r.problem->file},
                      {"path", dir + "/" + r.problem->file},
                      {"line", r.problem->line},
                      {"reason", r.problem->reason}};
  }
  return out;
}

std::string keyed_text(const obs::audit_verify_report& r) {
  if (r.keyed_lines > 0 && r.unkeyed_lines == 0) return "yes (HMAC-SHA256 with the audit secret)";
  if (r.keyed_lines == 0) return "no (SHA-256 chain without a key)";
  return "partly: " + std::to_string(r.unkeyed_lines) + " line(s) before a secret was set";
}

}  // namespace

int run_audit_verify(const config& c, const audit_verify_options& o) {
  const auto dir = o.dir.value_or(c.effective_audit_dir());
  auto report = obs::verify_audit_log(dir, c.audit.secret);
  if (!report) return report_error("audit log in " + dir + ": " + report.error().message);
  const auto& r = *report;
  if (o.json) {
    std::cout << to_json(dir, r).dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
  } else {
    std::cout << (r.intact() ? "audit log intact: " : "audit log NOT intact: ") << dir << "\n"
              << "  files:  " << r.files.size() << " (" << r.files.front() << " .. "
              << r.files.back() << ")\n"
              << "  lines:  " << r.lines << " checked (" << r.events << " run events), audit_seq "
              << r.first_audit_seq << ".." << r.last_audit_seq << "\n"
              << "  time:   " << (r.first_ts.empty() ? "-" : r.first_ts) << " .. "
              << (r.last_ts.empty() ? "-" : r.last_ts) << "\n"
              << "  keyed:  " << keyed_text(r) << "\n";
    for (const auto& note : r.notes) std::cout << "  note:   " << note << "\n";
    if (r.problem) {
      std::cout << "first bad line: " << dir << "/" << r.problem->file << ":" << r.problem->line
                << ": " << r.problem->reason << "\n";
    }
  }
  return r.intact() ? k_exit_ok : k_exit_error;
}

}  // namespace grok::cli
