#include "cli/progress_printer.h"

#include <iostream>

#include <fmt/format.h>

#include "cli/text.h"

namespace grok::cli {

using json = nlohmann::json;

std::string compact(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

void progress_printer::print(const json& e) {
  const auto type = e.value("event", "");
  const auto name = e.value("name", "");
  if (type == "run.created") {
    std::cerr << "run " << e.value("run_id", "") << "\n";
  } else if (type == "step.started" && name == "planner") {
    std::cerr << "planning...\n";
  } else if (type == "step.started" && name.starts_with("replanner.")) {
    std::cerr << "replanning...\n";
  } else if (type == "plan.created") {
    const auto& steps = e["plan"]["steps"];
    std::cerr << (e.value("edited", false) ? "edited plan" : "plan") << " (" << steps.size()
              << (steps.size() == 1 ? " step" : " steps") << "):\n";
    for (const auto& s : steps) {
      std::cerr << "  " << s.value("id", "") << "  " << s.value("tool", "") << " "
                << one_line(compact(s["args"]), 100) << "\n";
    }
  } else if (type == "run.awaiting_input") {
    const auto& est = e["estimate"];
    std::cerr << "waiting for approval: about " << est.value("model_calls", 0)
              << " model call(s), ~" << est.value("tokens", 0) << " tokens\n";
  } else if (type == "tool.requested") {
    std::cerr << "  > " << name.substr(7) << " " << e.value("tool", "") << " "
              << one_line(compact(e["args"]), 80) << "\n";
  } else if (type == "step.completed" && name.starts_with("worker.")) {
    std::string value;
    if (e.contains("result") && !e["result"]["outputs"].empty()) {
      value = e["result"]["outputs"][0].value("value", "");
    }
    std::cerr << "  ok " << name.substr(7) << " ("
              << e["metrics"].value("latency_ms", std::int64_t{0})
              << " ms): " << one_line(value, 80) << "\n";
  } else if (type == "step.retrying") {
    std::cerr << "  retry " << name.substr(name.find('.') + 1) << " in "
              << e.value("retry_in_ms", std::int64_t{0})
              << " ms: " << one_line(e.value("error", ""), 100) << "\n";
  } else if (type == "step.failed") {
    std::cerr << "  FAILED " << name << ": " << one_line(e["error"].value("message", ""), 200)
              << "\n";
  } else if (type == "step.started" && name == "solver") {
    std::cerr << "answer:\n";
  } else if (type == "llm.delta") {
    const auto delta = e.value("delta", "");
    std::cout << delta << std::flush;
    streamed_ += delta.size();
    ends_with_newline_ = !delta.empty() && delta.back() == '\n';
  } else if (type == "run.completed") {
    if (streamed_ == 0) {
      const auto answer = e.value("answer", "");
      std::cout << answer;
      ends_with_newline_ = !answer.empty() && answer.back() == '\n';
    }
    if (!ends_with_newline_) std::cout << "\n";
    std::cout << std::flush;
    summary(e, "completed");
  } else if (type == "run.failed" || type == "run.cancelled") {
    if (streamed_ > 0 && !ends_with_newline_) std::cout << "\n" << std::flush;
    std::cerr << (type == "run.failed" ? "failed" : "cancelled") << ": "
              << e["error"].value("message", "") << "\n";
    summary(e, type == "run.failed" ? "failed" : "cancelled");
  }
}

void progress_printer::summary(const json& e, std::string_view what) {
  const auto& u = e["usage"];
  std::cerr << what << " · tokens " << u.value("tokens_in", std::int64_t{0}) << " in / "
            << u.value("tokens_out", std::int64_t{0}) << " out";
  if (u.value("cost", 0.0) > 0) std::cerr << fmt::format(" · cost {:.6f}", u.value("cost", 0.0));
  std::cerr << "\n";
}

}  // namespace grok::cli
