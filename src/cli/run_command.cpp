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

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/follow.h"
#include "cli/interrupt.h"
#include "cli/progress_printer.h"
#include "cli/runtime.h"
#include "engine/events.h"

namespace grok::cli {

using json = nlohmann::json;

bool ask_approval() {
  std::cerr << "Run this plan? [y/N] " << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  return answer == "y" || answer == "Y" || answer == "yes";
}

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
  if (o.server) return run_task_remote(c, o);
  // Blocks the stop signals before any thread starts; they cancel the run (below).
  interrupt_watch interrupt;

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

  interrupt.start([&] { (void)eng.cancel_run(run->id, "interrupted from the terminal"); });

  auto final_event =
      follow_run(st, eng, run->id, {.json = o.json, .approve = o.approve, .ask = !o.json});
  interrupt.stop();
  (*rt)->workers->stop();
  if (!final_event) return report_error(describe(final_event.error()));
  if (*final_event == "run.completed") return k_exit_ok;
  if (interrupt.interrupted()) return 130;
  return k_exit_error;
}

}  // namespace grok::cli
