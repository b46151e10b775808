// Helpers for the audit log tests: events with secrets in every user, model and tool
// field, and reading the files back.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "obs/audit_format.h"
#include "obs/audit_log.h"

namespace grok::obs::testing {

using json = nlohmann::json;

inline audit_event make_event(const std::string& run_id, std::int64_t seq, std::string type,
                              json body, std::optional<std::string> step_id = std::nullopt,
                              std::optional<std::string> name = std::nullopt) {
  audit_event e;
  e.run_id = run_id;
  e.seq = seq;
  e.type = std::move(type);
  e.step_id = std::move(step_id);
  e.name = std::move(name);
  e.ts = from_unix_ms(1'790'000'000'000 + seq);
  e.body_json = body.dump();
  return e;
}

// One run whose input, tool arguments, tool output, error messages, answer, plan and
// streamed text each hold a distinct secret ("S-<field>-<run>").
inline std::vector<audit_event> secret_run(const std::string& run_id) {
  const auto s = [&](const std::string& field) { return "S-" + field + "-" + run_id; };
  const std::string step = "step_" + run_id;
  std::vector<audit_event> out;
  std::int64_t seq = 0;
  const auto add = [&](std::string type, json body, bool on_step = true) {
    out.push_back(make_event(run_id, ++seq, std::move(type), std::move(body),
                             on_step ? std::optional<std::string>(step) : std::nullopt,
                             on_step ? std::optional<std::string>("worker.E1") : std::nullopt));
  };
  add("run.created", {{"input", s("input")}, {"options", {{"max_steps", 4}}}}, false);
  add("plan.created", {{"plan", {{"steps", {{{"id", "E1"}, {"args", s("plan")}}}}}},
                       {"prompt_version", "planner-1"},
                       {"replan", false}});
  add("step.started", {{"tool", "http_get"}, {"attempt", 1}});
  add("tool.requested",
      {{"tool", "http_get"}, {"args", {{"url", s("args")}}}, {"idempotency_key", s("idem")}});
  add("tool.result", {{"tool", "http_get"}, {"status", "error"}, {"error", s("tool_error")}});
  add("step.retrying", {{"attempt", 1}, {"error", s("retry_error")}, {"retry_in_ms", 500}});
  add("tool.result", {{"tool", "http_get"}, {"status", "ok"}, {"output", s("output")}});
  add("step.completed",
      {{"metrics", {{"tokens_in", 0}, {"tokens_out", 0}, {"latency_ms", 12}}},
       {"result", {{"status", "ok"}, {"outputs", {{{"key", "E1"}, {"value", s("outputs")}}}}}}});
  add("step.failed", {{"error", {{"code", "timeout"}, {"message", s("error_message")}}}});
  add("llm.delta", {{"delta", s("delta")}});
  add("run.completed",
      {{"answer", s("answer")}, {"usage", {{"tokens_in", 10}, {"tokens_out", 5}, {"cost", 0.25}}}},
      false);
  return out;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream all;
  all << in.rdbuf();
  return all.str();
}

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

inline std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < text.size()) {
    auto nl = text.find('\n', at);
    if (nl == std::string::npos) nl = text.size();
    out.push_back(text.substr(at, nl - at));
    at = nl + 1;
  }
  return out;
}

inline std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// Every file of the log, oldest first.
inline std::vector<audit_file> files_in(const std::string& dir) {
  auto files = list_audit_files(dir);
  return files ? *files : std::vector<audit_file>{};
}

// Every line of every file, parsed, in order.
inline std::vector<json> all_lines(const std::string& dir) {
  std::vector<json> out;
  for (const auto& f : files_in(dir)) {
    for (const auto& line : split_lines(read_file(f.path))) out.push_back(json::parse(line));
  }
  return out;
}

inline std::string all_text(const std::string& dir) {
  std::string out;
  for (const auto& f : files_in(dir)) out += read_file(f.path);
  return out;
}

inline void copy_dir(const std::string& from, const std::string& to) {
  std::filesystem::copy(from, to, std::filesystem::copy_options::recursive);
}

}  // namespace grok::obs::testing
