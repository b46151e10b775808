// `grok run "TASK"`: runs one task on the local data directory with in-process workers and
// shows its progress live: progress on stderr, the answer on stdout (so that
// `grok run "…" > answer.txt` keeps only the answer), or every event as NDJSON with --json.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/follow.h"
#include "cli/runtime.h"
#include "cli/text.h"
#include "engine/events.h"

namespace grok::cli {

using json = nlohmann::json;

namespace {

std::string compact(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Renders events for a person watching a terminal.
class progress_printer {
 public:
  void print(const json& e) {
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

 private:
  static void summary(const json& e, std::string_view what) {
    const auto& u = e["usage"];
    std::cerr << what << " · tokens " << u.value("tokens_in", std::int64_t{0}) << " in / "
              << u.value("tokens_out", std::int64_t{0}) << " out";
    if (u.value("cost", 0.0) > 0) std::cerr << fmt::format(" · cost {:.6f}", u.value("cost", 0.0));
    std::cerr << "\n";
  }

  std::size_t streamed_ = 0;
  bool ends_with_newline_ = true;
};

// Asks on the terminal whether to run the plan; anything but y/yes rejects it.
bool ask_approval() {
  std::cerr << "Run this plan? [y/N] " << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  return answer == "y" || answer == "Y" || answer == "yes";
}

}  // namespace

result<std::string> follow_run(store::store& st, engine::engine& eng, const std::string& run_id,
                               const follow_options& o) {
  progress_printer printer;
  std::int64_t seq = 0;
  while (true) {
    const auto generation = st.events_signal().generation();
    auto events = st.events_after(run_id, seq, 1000);
    if (!events) return tl::unexpected(events.error());
    for (const auto& e : *events) {
      seq = e.seq;
      auto env = engine::envelope(e);
      if (o.json) {
        std::cout << compact(env) << "\n" << std::flush;
      } else {
        printer.print(env);
      }
      if (e.type == "run.awaiting_input") {
        engine::approval decision;
        decision.approve = o.approve || (o.ask && ask_approval());
        if (!decision.approve) decision.reason = "not approved at the terminal";
        if (auto r = eng.approve_run(run_id, decision); !r) {
          std::cerr << "grok: error: " << describe(r.error()) << "\n";
        }
      }
      if (engine::is_terminal_event(e.type)) return e.type;
    }
    if (events->empty()) st.events_signal().wait_for_change(generation, std::chrono::seconds(1));
  }
}

int run_task(const config& c, const run_task_options& o) {
  if (o.server) {
    return report_error(
        "--server needs the HTTP API, which this build does not have yet; run "
        "without --server to use the local data directory");
  }
  // The stop signals are received by one thread (below) that cancels the run; blocked
  // before any thread starts so that every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto rt = make_runtime(c);
  if (!rt) return report_error(describe(rt.error()));
  auto& st = *(*rt)->store;
  auto& eng = *(*rt)->engine;

  engine::create_run_request request;
  request.input = o.task;
  request.options = o.options;
  auto run = eng.create_run(request);
  if (!run) return report_error(describe(run.error()));
  (*rt)->workers->start();

  std::atomic<bool> done{false};
  std::atomic<bool> interrupted{false};
  std::thread signal_thread([&] {
    const timespec tick{0, 100'000'000};
    while (!done) {
      if (sigtimedwait(&stop_signals, nullptr, &tick) < 0) continue;
      if (!interrupted.exchange(true)) {
        std::cerr << "\ninterrupted: cancelling the run (press Ctrl-C again to quit at once)\n";
        (void)eng.cancel_run(run->id, "interrupted from the terminal");
      } else {
        std::_Exit(130);
      }
    }
  });

  auto final_event =
      follow_run(st, eng, run->id, {.json = o.json, .approve = o.approve, .ask = !o.json});
  done = true;
  signal_thread.join();
  (*rt)->workers->stop();
  if (!final_event) return report_error(describe(final_event.error()));
  if (*final_event == "run.completed") return k_exit_ok;
  if (interrupted) return 130;
  return k_exit_error;
}

}  // namespace grok::cli
