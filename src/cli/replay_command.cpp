// `grok replay RUN_ID`: runs a recorded run again with every model answer taken from its
// recorded model calls (no model server needed), then shows where the new run diverges
// from the old one.
//
// The replay runs in a throwaway database in a temporary directory, not in the data
// directory: its workers then see only the replayed run (unfinished runs of the data
// directory are left for `grok serve`), and replaying changes nothing a user keeps. Model
// answers are read from the data directory's `llm_calls`, by request hash within the old
// run, so the first request the old run never made fails loudly and marks the divergence.
// Tools run again (a changed web page or document shows up as a different output).
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <iostream>
#include <map>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/config_loader.h"
#include "cli/follow.h"
#include "cli/text.h"
#include "engine/engine.h"
#include "engine/models.h"
#include "llm/recorded_models.h"
#include "queue/worker_pool.h"
#include "store/open_store.h"
#include "tools/builtin.h"

namespace grok::cli {

using json = nlohmann::json;

namespace {

// The temporary directory of the replay database; removed with everything in it.
class scratch_dir {
 public:
  static result<scratch_dir> create() {
    std::error_code ec;
    auto base = std::filesystem::temp_directory_path(ec);
    if (ec) return fail(errc::io, "no temporary directory: " + ec.message());
    std::string pattern = (base / "grok-replay-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      return fail(errc::io, "cannot create a directory in " + base.string() + " for the replay");
    }
    return scratch_dir(pattern);
  }
  scratch_dir(scratch_dir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  scratch_dir& operator=(scratch_dir&&) = delete;
  ~scratch_dir() {
    if (path_.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  explicit scratch_dir(std::filesystem::path p) : path_(std::move(p)) {}
  std::filesystem::path path_;
};

// The request parameters a role's calls were made with, read back from the first recorded
// call of that role, so that the replayed requests hash alike even when the configuration
// has changed since (another default model, max_tokens, output style).
llm::chat_request recorded_defaults(const std::string& request_json, llm::chat_request fallback) {
  json doc = json::parse(request_json, nullptr, false);
  if (!doc.is_object()) return fallback;
  llm::chat_request d;
  d.model = doc.value("model", fallback.model);
  if (auto v = doc.find("temperature"); v != doc.end() && v->is_number()) d.temperature = *v;
  if (auto v = doc.find("max_tokens"); v != doc.end() && v->is_number_integer()) {
    d.max_tokens = v->get<int>();
  }
  if (auto v = doc.find("stop"); v != doc.end() && v->is_array()) {
    for (const auto& s : *v) {
      if (s.is_string()) d.stop.push_back(s.get<std::string>());
    }
  }
  if (auto v = doc.find("seed"); v != doc.end() && v->is_number_integer()) {
    d.seed = v->get<std::int64_t>();
  }
  d.output_style =
      doc.contains("format") ? llm::structured_output_style::ollama_format : fallback.output_style;
  if (doc.contains("response_format")) {
    d.output_style = llm::structured_output_style::response_format;
  }
  return d;
}

// Every role answered by the old run's recorded calls.
class replay_models final : public engine::model_hub {
 public:
  replay_models(store::store& recorded, const std::string& old_run_id,
                const std::vector<store::llm_call_record>& calls, const config& c)
      : model_(recorded, old_run_id), configured_(c, process_env()) {
    // The engine binds "planner" for planning, repairs and replans.
    const std::map<std::string, std::string> role_of_call = {{"planner", "planner"},
                                                             {"repair", "planner"},
                                                             {"replan", "planner"},
                                                             {"solver", "solver"},
                                                             {"llm", "llm"}};
    for (const auto& call : calls) {
      auto role = role_of_call.find(call.role);
      if (role != role_of_call.end() && !requests_.contains(role->second)) {
        requests_.emplace(role->second, call.request_json);
      }
    }
  }

  result<engine::model_binding> bind(std::string_view role) override {
    // The configured binding gives the defaults of a role the old run never called.
    llm::chat_request fallback;
    if (auto b = configured_.bind(role)) fallback = b->defaults;
    fallback.stream = false;
    auto recorded = requests_.find(std::string(role));
    auto defaults =
        recorded == requests_.end() ? fallback : recorded_defaults(recorded->second, fallback);
    return engine::model_binding{&model_, std::move(defaults), "replay"};
  }

 private:
  llm::replay_model model_;
  engine::configured_models configured_;
  std::map<std::string, std::string, std::less<>> requests_;
};

// How one step of the replay differs from the recorded one; empty when it does not.
std::string step_difference(const store::step_record* old_step,
                            const store::step_record* new_step) {
  if (old_step == nullptr) return "not in the recorded run";
  if (new_step == nullptr) return "recorded, but the replay never reached it";
  if (old_step->tool != new_step->tool) {
    return fmt::format("tool {} instead of {}", new_step->tool.value_or("-"),
                       old_step->tool.value_or("-"));
  }
  if (old_step->args_json != new_step->args_json) {
    return fmt::format("arguments {} instead of {}", one_line(new_step->args_json, 120),
                       one_line(old_step->args_json, 120));
  }
  if (old_step->status != new_step->status) {
    std::string why = fmt::format("{} instead of {}", new_step->status, old_step->status);
    if (new_step->error) why += ": " + one_line(*new_step->error, 300);
    return why;
  }
  if (old_step->output != new_step->output) {
    return fmt::format("output \"{}\" instead of \"{}\"",
                       one_line(new_step->output.value_or(""), 120),
                       one_line(old_step->output.value_or(""), 120));
  }
  return {};
}

}  // namespace

int run_replay(const config& c, const replay_options& o) {
  auto recorded_store =
      store::open_store({.url = c.effective_db(), .create_if_missing = false, .migrate = false});
  if (!recorded_store) return report_error(describe(recorded_store.error()));
  auto& recorded = **recorded_store;
  auto old_run = recorded.get_run(o.run_id);
  if (!old_run) return report_error(describe(old_run.error()));
  if (!*old_run) return report_error("no run " + o.run_id + " in " + c.effective_db());
  if (!store::is_terminal((*old_run)->status)) {
    return report_error("run " + o.run_id + " is " + std::string(to_string((*old_run)->status)) +
                        "; only a finished run can be replayed");
  }
  auto calls = recorded.list_llm_calls(o.run_id);
  if (!calls) return report_error(describe(calls.error()));
  auto old_steps = recorded.list_steps(o.run_id);
  if (!old_steps) return report_error(describe(old_steps.error()));

  // Stop signals cancel the replayed run, as in `grok run` (and let the scratch directory
  // be removed).
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto scratch = scratch_dir::create();
  if (!scratch) return report_error(describe(scratch.error()));
  auto opened = store::open_store({.url = "sqlite://" + (scratch->path() / "replay.db").string()});
  if (!opened) return report_error(describe(opened.error()));
  auto& st = **opened;

  // doc_search reads the data directory's documents, as the recorded run did.
  tools::tool_registry tools(c.tools.output_max_bytes);
  if (auto r = tools::add_builtin_tools(tools, c, recorded); !r) {
    return report_error(describe(r.error()));
  }
  replay_models models(recorded, o.run_id, *calls, c);
  auto eng = engine::engine::create(st, tools, models, engine::engine_options::from_config(c));
  if (!eng) return report_error(describe(eng.error()));
  queue::worker_pool workers(st, queue::worker_pool_options::from_config(c));
  (*eng)->register_handlers(workers);

  // The recorded options, as stored when the run was created (defaults filled in).
  json options = json::parse((*old_run)->options_json, nullptr, false);
  if (!options.is_object()) options = json::object();
  for (auto it = options.begin(); it != options.end();) {
    // Null and [] stand for "the default" when stored; a request spells that by omission.
    const bool unset = it->is_null() || (it->is_array() && it->empty());
    it = unset ? options.erase(it) : std::next(it);
  }
  engine::create_run_request request;
  request.input = (*old_run)->input;
  request.options = options;
  auto run = (*eng)->create_run(request);
  if (!run) return report_error("cannot replay: " + describe(run.error()));
  if (!o.json) {
    std::cerr << "replaying run " << o.run_id << " (" << to_string((*old_run)->status) << ", "
              << calls->size() << " recorded model call" << (calls->size() == 1 ? "" : "s")
              << "); tools run again\n";
  }
  workers.start();

  std::atomic<bool> done{false};
  std::thread signal_thread([&] {
    const timespec tick{0, 100'000'000};
    while (!done) {
      if (sigtimedwait(&stop_signals, nullptr, &tick) < 0) continue;
      (void)(*eng)->cancel_run(run->id, "interrupted from the terminal");
    }
  });
  // A plan the old run had approved is approved as it is.
  auto final_event =
      follow_run(st, **eng, run->id, {.json = o.json, .approve = true, .ask = false});
  done = true;
  signal_thread.join();
  workers.stop();
  if (!final_event) return report_error(describe(final_event.error()));

  auto new_run = st.get_run(run->id);
  auto new_steps = st.list_steps(run->id);
  if (!new_run || !*new_run || !new_steps) {
    return report_error("cannot read the replayed run back");
  }

  // Compare step by step, in the recorded run's order, then the replay's extra steps.
  std::map<std::string, const store::step_record*> replayed;
  for (const auto& s : *new_steps) replayed.emplace(s.name, &s);
  std::vector<std::pair<std::string, std::string>> rows;  // step name, difference
  for (const auto& s : *old_steps) {
    auto it = replayed.find(s.name);
    rows.emplace_back(s.name, step_difference(&s, it == replayed.end() ? nullptr : it->second));
    if (it != replayed.end()) replayed.erase(it);
  }
  for (const auto& s : *new_steps) {
    if (replayed.contains(s.name)) rows.emplace_back(s.name, step_difference(nullptr, &s));
  }
  std::string first_divergence;
  for (const auto& [name, diff] : rows) {
    if (!diff.empty() && first_divergence.empty()) first_divergence = name + ": " + diff;
  }
  const auto& old_r = **old_run;
  const auto& new_r = **new_run;
  if (first_divergence.empty() && old_r.status != new_r.status) {
    first_divergence =
        fmt::format("run: {} instead of {}", to_string(new_r.status), to_string(old_r.status));
  }
  if (first_divergence.empty() && old_r.answer != new_r.answer) {
    first_divergence = "run: the answer differs";
  }
  if (!first_divergence.empty() && new_r.status != old_r.status && new_r.error_message) {
    first_divergence += fmt::format(" (the replay {}: {})", to_string(new_r.status),
                                    one_line(*new_r.error_message, 300));
  }

  if (o.json) {
    json out = {
        {"event", "replay.compared"},
        {"recorded_run_id", o.run_id},
        {"replay_run_id", run->id},
        {"identical", first_divergence.empty()},
        {"first_divergence", first_divergence.empty() ? json(nullptr) : json(first_divergence)},
        {"steps", json::array()}};
    for (const auto& [name, diff] : rows) {
      out["steps"].push_back({{"name", name}, {"same", diff.empty()}, {"difference", diff}});
    }
    std::cout << out.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
  } else {
    std::cerr << "\ncompared with the recorded run " << o.run_id << ":\n";
    for (const auto& [name, diff] : rows) {
      std::cerr << fmt::format("  {:<14} {}\n", name, diff.empty() ? "same" : diff);
    }
    if (first_divergence.empty()) {
      std::cerr << "identical: every step and the answer match the recording\n";
    } else {
      std::cerr << "diverged at " << first_divergence << "\n";
    }
  }
  return first_divergence.empty() ? k_exit_ok : k_exit_error;
}

}  // namespace grok::cli
