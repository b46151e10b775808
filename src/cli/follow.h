// Following a run's events in the terminal, shared by `grok run` and `grok replay`.
#pragma once

#include <string>

#include "core/result.h"
#include "engine/engine.h"
#include "store/store.h"

namespace grok::cli {

struct follow_options {
  bool json = false;     // every event as one NDJSON line on stdout
  bool approve = false;  // approve a plan waiting for approval without asking
  // Ask on the terminal when a plan waits for approval (and `approve` is false); otherwise
  // such a plan is rejected.
  bool ask = true;
};

// Prints the run's events as they are stored (progress on stderr, the answer on stdout)
// until its terminal event, answering approval requests as `o` says. Returns the terminal
// event's type.
[[nodiscard]] result<std::string> follow_run(store::store& st, engine::engine& eng,
                                             const std::string& run_id, const follow_options& o);

}  // namespace grok::cli
