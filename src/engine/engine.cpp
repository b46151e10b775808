#include "engine/engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <variant>

#include "core/ids.h"
#include "core/sha256.h"
#include "engine/events.h"
#include "engine/plan.h"
#include "engine/run_options.h"
#include "llm/recorded_models.h"
#include "obs/log_context.h"

namespace grok::engine {

using json = nlohmann::json;
using store::run_record;
using store::run_status;
using store::step_record;
using store::transaction;

namespace {

constexpr std::string_view k_planner = "planner";
constexpr std::string_view k_solver = "solver";
constexpr std::size_t k_event_output_bytes = 4096;  // outputs in events are cut to this

std::string worker_name(std::string_view evidence) { return "worker." + std::string(evidence); }

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// A UTF-8-safe cut for event payloads; the step row keeps the whole output.
std::string excerpt(const std::string& text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  auto cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0U) == 0x80U) --cut;
  return text.substr(0, cut) + "…";
}

step_record* find_step(std::vector<step_record>& steps, std::string_view name) {
  for (auto& s : steps) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

bool is_worker(const step_record& s) { return s.name.starts_with("worker."); }
std::string evidence_of(const step_record& s) { return s.name.substr(7); }

json usage_json(const run_record& r) {
  return {{"tokens_in", r.tokens_in}, {"tokens_out", r.tokens_out}, {"cost", r.cost}};
}

// Why the work of one job was asked to stop.
enum class stop_cause : int { none, run_ended, timeout, shutdown };

struct inflight {
  std::string run_id;
  std::stop_source source;
  std::atomic<stop_cause> cause{stop_cause::none};
  void stop(stop_cause c) {
    auto expected = stop_cause::none;
    cause.compare_exchange_strong(expected, c);
    source.request_stop();
  }
};

struct job_payload {
  std::string run_id;
  std::string step;  // evidence id for run.step
};

result<job_payload> parse_payload(const std::string& text) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("run_id") || !doc["run_id"].is_string()) {
    return fail(errc::invalid_argument, "job payload has no run_id");
  }
  job_payload p{doc["run_id"].get<std::string>(), {}};
  if (auto it = doc.find("step"); it != doc.end() && it->is_string())
    p.step = it->get<std::string>();
  return p;
}

}  // namespace

engine_options engine_options::from_config(const config& c) {
  engine_options o;
  o.defaults = c.engine;
  o.prices = c.prices;
  o.step_backoff = {c.queue.backoff_base, c.queue.backoff_cap};
  o.step_max_attempts = std::max(1, std::min(c.queue.max_attempts, 5));
  o.job_max_attempts = std::max(c.queue.max_attempts, o.step_max_attempts + 2);
  return o;
}

struct engine::impl {
  store::store& store;
  tools::tool_registry& tools;
  model_hub& models;
  engine_options options;
  prompt_set prompts;

  std::mutex inflight_mutex;
  std::multimap<std::string, inflight*, std::less<>> inflight_by_run;

  // Step timeouts: one thread sleeps until the earliest one.
  std::mutex timer_mutex;
  std::condition_variable timer_changed;
  std::multimap<std::chrono::steady_clock::time_point, inflight*> timers;
  bool timer_stopping = false;
  std::thread timer_thread;

  impl(store::store& st, tools::tool_registry& t, model_hub& m, engine_options o, prompt_set p)
      : store(st), tools(t), models(m), options(std::move(o)), prompts(std::move(p)) {
    timer_thread = std::thread([this] { run_timers(); });
  }
  ~impl() {
    {
      std::lock_guard lock(timer_mutex);
      timer_stopping = true;
    }
    timer_changed.notify_all();
    timer_thread.join();
  }
  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;

  void run_timers() {
    std::unique_lock lock(timer_mutex);
    while (!timer_stopping) {
      if (timers.empty()) {
        timer_changed.wait(lock);
        continue;
      }
      auto first = timers.begin();
      if (first->first <= std::chrono::steady_clock::now()) {
        first->second->stop(stop_cause::timeout);
        timers.erase(first);
        continue;
      }
      // A copy: the entry may be erased (its scope ended) while this waits.
      const auto when = first->first;
      timer_changed.wait_until(lock, when);
    }
  }

  // Registers a job's work so that cancel, deadline, timeout and shutdown can stop it.
  class scope {
   public:
    scope(impl& owner, std::string run_id, const std::stop_token& pool_stop,
          std::optional<std::chrono::milliseconds> timeout)
        : owner_(owner), on_shutdown_(pool_stop, [this] { work_.stop(stop_cause::shutdown); }) {
      work_.run_id = std::move(run_id);
      {
        std::lock_guard lock(owner_.inflight_mutex);
        owner_.inflight_by_run.emplace(work_.run_id, &work_);
      }
      if (timeout) {
        std::lock_guard lock(owner_.timer_mutex);
        owner_.timers.emplace(std::chrono::steady_clock::now() + *timeout, &work_);
        owner_.timer_changed.notify_all();
      }
    }
    ~scope() {
      {
        std::lock_guard lock(owner_.timer_mutex);
        for (auto it = owner_.timers.begin(); it != owner_.timers.end(); ++it) {
          if (it->second == &work_) {
            owner_.timers.erase(it);
            break;
          }
        }
      }
      std::lock_guard lock(owner_.inflight_mutex);
      auto [from, to] = owner_.inflight_by_run.equal_range(work_.run_id);
      for (auto it = from; it != to; ++it) {
        if (it->second == &work_) {
          owner_.inflight_by_run.erase(it);
          break;
        }
      }
    }
    scope(const scope&) = delete;
    scope& operator=(const scope&) = delete;

    [[nodiscard]] std::stop_token token() const { return work_.source.get_token(); }
    [[nodiscard]] stop_cause cause() const { return work_.cause.load(); }

   private:
    impl& owner_;
    inflight work_;
    std::stop_callback<std::function<void()>> on_shutdown_;
  };

  void stop_run_work(std::string_view run_id) {
    std::lock_guard lock(inflight_mutex);
    auto [from, to] = inflight_by_run.equal_range(run_id);
    for (auto it = from; it != to; ++it) it->second->stop(stop_cause::run_ended);
  }

  // --- helpers inside transactions ---

  [[nodiscard]] double cost_of(std::string_view model, std::int64_t in, std::int64_t out) const {
    auto it = options.prices.find(model);
    if (it == options.prices.end()) return 0;
    return (static_cast<double>(in) * it->second.input_per_mtok +
            static_cast<double>(out) * it->second.output_per_mtok) /
           1e6;
  }

  result<void> emit(transaction& tx, std::string_view run_id, std::string_view type,
                    const json& body, const step_record* step = nullptr) {
    auto ev = make_event(run_id, type, tx.now(), body,
                         step ? std::optional<std::string>(step->id) : std::nullopt,
                         step ? std::optional<std::string>(step->name) : std::nullopt);
    auto seq = tx.append_event(ev);
    if (!seq) return tl::unexpected(seq.error());
    return {};
  }

  // Ends a run: status, error, the steps still open, and the terminal event.
  result<void> end_run(transaction& tx, run_record& run, run_status status, std::string code,
                       std::string message) {
    run.status = status;
    run.finished_at = tx.now();
    if (status != run_status::completed) {
      run.error_code = std::move(code);
      run.error_message = std::move(message);
    }
    if (auto r = tx.update_run(run); !r) return r;
    auto steps = tx.list_steps(run.id);
    if (!steps) return tl::unexpected(steps.error());
    for (auto& s : *steps) {
      if (s.status == "pending" || s.status == "running" || s.status == "retrying") {
        s.status = status == run_status::cancelled ? "cancelled" : "skipped";
        s.finished_at = tx.now();
        if (auto r = tx.upsert_step(s); !r) return r;
      }
    }
    if (status == run_status::completed) {
      return emit(tx, run.id, "run.completed",
                  {{"answer", run.answer.value_or("")}, {"usage", usage_json(run)}});
    }
    json body = {{"error", {{"code", *run.error_code}, {"message", *run.error_message}}},
                 {"usage", usage_json(run)}};
    return emit(tx, run.id, status == run_status::cancelled ? "run.cancelled" : "run.failed", body);
  }

  // Adds a step's tokens to the run; fails the run when its token budget is exceeded.
  // Returns true when the run was ended.
  result<bool> charge(transaction& tx, run_record& run, const run_options& opts, std::int64_t in,
                      std::int64_t out, std::string_view model) {
    run.tokens_in += in;
    run.tokens_out += out;
    run.cost += cost_of(model, in, out);
    if (opts.token_budget > 0 && run.tokens_in + run.tokens_out > opts.token_budget) {
      auto r = end_run(tx, run, run_status::failed, "token_budget",
                       "token budget of " + std::to_string(opts.token_budget) +
                           " exceeded: the run used " +
                           std::to_string(run.tokens_in + run.tokens_out) + " tokens");
      if (!r) return tl::unexpected(r.error());
      return true;
    }
    return false;
  }

  result<void> enqueue(transaction& tx, std::string_view topic, const json& payload,
                       std::string dedupe, millis delay = millis(0)) {
    store::job_spec spec;
    spec.topic = std::string(topic);
    spec.payload = dump(payload);
    spec.dedupe_key = std::move(dedupe);
    spec.max_attempts = options.job_max_attempts;
    spec.delay = delay;
    auto r = tx.enqueue(spec);
    if (!r) return tl::unexpected(r.error());
    return {};
  }

  // Enqueues every pending worker step whose evidence is all stored, and the solver when
  // every worker step is done. After a failed step (which ends the run unless it has
  // replans left) the steps that do not need it still run; the replan is enqueued once no
  // step is running or ready to run, so that it sees all the evidence there can be. Safe
  // to call again: dedupe keys make enqueues idempotent.
  result<void> release_ready(transaction& tx, const run_record& run,
                             const std::vector<step_record>& steps) {
    std::set<std::string> done;
    bool all_done = true;
    bool any_worker = false;
    bool failed = false;
    bool running = false;
    int replans = 0;
    for (const auto& s : steps) {
      // Only completed replans count for the dedupe key: while one is being written, a
      // second request for it must dedupe to the same job.
      if (s.name.starts_with("replanner.") && s.status == "completed") ++replans;
      // Skipped steps were dropped by a replan; replanned ones failed and were replaced.
      if (!is_worker(s) || s.status == "skipped" || s.status == "replanned") continue;
      any_worker = true;
      if (s.status == "completed") {
        done.insert(evidence_of(s));
      } else {
        all_done = false;
      }
      failed = failed || s.status == "failed";
      running = running || s.status == "running" || s.status == "retrying";
    }
    for (const auto& s : steps) {
      if (!is_worker(s) || s.status != "pending") continue;
      json args = json::parse(s.args_json, nullptr, false);
      bool ready = true;
      for (const auto& ref : evidence_refs(args)) ready = ready && done.contains(ref);
      if (!ready) continue;
      running = true;  // released now or before: its job will run it
      if (auto r = enqueue(tx, k_topic_step, {{"run_id", run.id}, {"step", evidence_of(s)}},
                           "step:" + s.id);
          !r) {
        return r;
      }
    }
    if (failed) {
      if (running) return {};
      return enqueue(tx, k_topic_replan, {{"run_id", run.id}},
                     "replan:" + run.id + ":" + std::to_string(replans + 1));
    }
    if (all_done && any_worker) {
      return enqueue(tx, k_topic_solve, {{"run_id", run.id}}, "solve:" + run.id);
    }
    return {};
  }

  // Worker steps for `p`, pending.
  result<void> add_plan_steps(transaction& tx, const run_record& run, const plan& p) {
    for (const auto& ps : p.steps) {
      step_record s;
      s.id = new_id("step", tx.now());
      s.run_id = run.id;
      s.name = worker_name(ps.id);
      s.tool = ps.tool;
      s.args_json = dump(ps.args);
      s.status = "pending";
      if (auto r = tx.upsert_step(s); !r) return r;
    }
    return {};
  }

  // --- model calls ---

  // A model call that is answered from llm_calls when this run already made it (after a
  // crash), and is recorded otherwise.
  llm::llm_result<llm::chat_response> call_model(const model_binding& binding,
                                                 const llm::chat_request& request,
                                                 const llm::call_options& call) {
    llm::replay_model recorded(store, call.run_id);
    auto answer = recorded.complete(request, call);
    if (answer || answer.error().kind != llm::failure::not_recorded) return answer;
    llm::recording_model live(*binding.model, store, binding.provider);
    return live.complete(request, call);
  }

  [[nodiscard]] std::string model_failure_message(const llm::llm_error& e,
                                                  std::string_view role) const {
    if (e.kind == llm::failure::unreachable) {
      return "cannot reach the " + std::string(role) + " model server: " + e.message +
             ". Start the model server (for Ollama: `ollama serve`) or set GROK_LLM_BASE_URL "
             "to one that runs";
    }
    return "the " + std::string(role) + " model call failed (" + std::string(to_string(e.kind)) +
           "): " + e.message;
  }

  json tools_context(const run_options& opts) const {
    json list = json::array();
    for (const auto* t : tools.list()) {
      const std::string name(t->name());
      if (!opts.tools.empty() &&
          std::find(opts.tools.begin(), opts.tools.end(), name) == opts.tools.end()) {
        continue;
      }
      list.push_back({{"name", name},
                      {"description", std::string(t->description())},
                      {"parameters", dump(t->parameters())}});
    }
    return list;
  }

  // --- job handlers ---

  queue::job_outcome handle_plan(const queue::job_context& ctx, bool replan);
  queue::job_outcome handle_step(const queue::job_context& ctx);
  queue::job_outcome handle_solve(const queue::job_context& ctx);
  queue::job_outcome handle_deadline(const queue::job_context& ctx);

  // Fails the run (if it is still open) in its own transaction and stops its work here.
  queue::job_outcome fail_run(const queue::job_context& ctx, const std::string& run_id,
                              std::string code, std::string message) {
    auto r = store.transact([&](transaction& tx) -> result<void> {
      auto run = tx.get_run(run_id);
      if (!run) return tl::unexpected(run.error());
      if (!*run || is_terminal((*run)->status)) return ctx.ack_in(tx);
      if (auto e = end_run(tx, **run, run_status::failed, code, message); !e) return e;
      return ctx.ack_in(tx);
    });
    if (!r)
      return queue::job_outcome::retry_later("storing the run's failure: " + r.error().message);
    ctx.mark_acked();
    stop_run_work(run_id);
    return queue::job_outcome::success();
  }

  struct loaded_run {
    run_record run;
    run_options options;
  };

  // The run a job works on, or an outcome when there is nothing (more) to do.
  std::variant<loaded_run, queue::job_outcome> load(const queue::job_context& ctx,
                                                    const std::string& run_id) {
    auto run = store.get_run(run_id);
    if (!run) return queue::job_outcome::retry_later("reading run: " + run.error().message);
    if (!*run) return queue::job_outcome::fail_permanently("no run " + run_id);
    if (is_terminal((*run)->status)) return queue::job_outcome::success();
    auto opts = stored_run_options((*run)->options_json);
    if (!opts) return queue::job_outcome::fail_permanently(opts.error().message);
    const auto deadline = (*run)->created_at + opts->deadline;
    if (store.store_clock().now() >= deadline) {
      return fail_run(ctx, run_id, "deadline", deadline_message(*opts));
    }
    return loaded_run{std::move(**run), std::move(*opts)};
  }

  static std::string deadline_message(const run_options& opts) {
    return "the run's deadline of " +
           json(static_cast<double>(opts.deadline.count()) / 1000.0).dump() + " s passed";
  }

  [[nodiscard]] millis time_left(const loaded_run& r) const {
    auto left = (r.run.created_at + r.options.deadline) - store.store_clock().now();
    return std::max(millis(1), std::chrono::duration_cast<millis>(left));
  }
};

// ---------------------------------------------------------------------------------------
// plan and replan

queue::job_outcome engine::impl::handle_plan(const queue::job_context& ctx, bool replan) {
  auto payload = parse_payload(ctx.job.payload);
  if (!payload) return queue::job_outcome::fail_permanently(payload.error().message);
  const obs::log_scope log_run({.run_id = payload->run_id});
  auto loaded = load(ctx, payload->run_id);
  if (auto* outcome = std::get_if<queue::job_outcome>(&loaded)) return *outcome;
  auto& current_run = std::get<loaded_run>(loaded);
  // Named references, not a structured binding: clang 14 cannot capture those in lambdas.
  auto& run = current_run.run;
  auto& opts = current_run.options;
  if (run.status == run_status::awaiting_input) return queue::job_outcome::success();

  // The planner step: "planner", or "replanner.N" for the N-th replan.
  std::string step_name(k_planner);
  plan_rules rules{opts.max_steps, opts.tools, {}};
  json replan_context;
  auto steps = store.list_steps(run.id);
  if (!steps) return queue::job_outcome::retry_later(steps.error().message);
  if (replan) {
    int replans = 0;
    int next_id = 1;
    const step_record* failed = nullptr;
    json evidence = json::array();
    for (const auto& s : *steps) {
      if (s.name.starts_with("replanner.") && s.status == "completed") ++replans;
      if (!is_worker(s)) continue;
      next_id = std::max(next_id, std::atoi(evidence_of(s).c_str() + 1) + 1);
      if (s.status != "completed") rules.used_ids.insert(evidence_of(s));
      if (s.status == "completed") {
        rules.existing_evidence.insert(evidence_of(s));
        evidence.push_back({{"id", evidence_of(s)},
                            {"tool", s.tool.value_or("")},
                            {"args", s.args_json},
                            {"output", excerpt(s.output.value_or(""), 2000)}});
      } else if (s.status == "failed") {
        failed = &s;
      }
    }
    // No failed step left: this replan was already applied.
    if (failed == nullptr) return queue::job_outcome::success();
    step_name = "replanner." + std::to_string(replans + 1);
    replan_context = {{"task", run.input},
                      {"evidence", evidence},
                      {"tools", tools_context(opts)},
                      {"max_steps", opts.max_steps},
                      {"next_id", next_id},
                      {"failed_id", failed ? evidence_of(*failed) : ""},
                      {"failed_tool", failed ? failed->tool.value_or("") : ""},
                      {"failed_args", failed ? failed->args_json : ""},
                      {"failed_error", failed ? failed->error.value_or("") : ""}};
  } else if (auto* existing = find_step(*steps, step_name);
             existing && existing->status == "completed") {
    return queue::job_outcome::success();
  }

  // Start (or restart) the planner step.
  step_record step;
  auto started = store.transact([&](transaction& tx) -> result<void> {
    auto current = tx.get_run(run.id);
    if (!current) return tl::unexpected(current.error());
    if (!*current || is_terminal((*current)->status)) return fail(errc::cancelled, "run ended");
    run = **current;
    auto all = tx.list_steps(run.id);
    if (!all) return tl::unexpected(all.error());
    if (auto* s = find_step(*all, step_name)) {
      step = *s;
    } else {
      step.id = new_id("step", tx.now());
      step.run_id = run.id;
      step.name = step_name;
      step.started_at = tx.now();
    }
    step.status = "running";
    step.attempts += 1;
    step.prompt_version = prompts.version(replan ? "replan" : "planner");
    if (run.status == run_status::queued) {
      run.status = run_status::running;
      run.started_at = tx.now();
      if (auto r = tx.update_run(run); !r) return r;
    }
    if (auto r = tx.upsert_step(step); !r) return r;
    return emit(tx, run.id, "step.started",
                {{"attempt", step.attempts}, {"prompt_version", *step.prompt_version}}, &step);
  });
  if (!started) {
    if (started.error().code == errc::cancelled) return queue::job_outcome::success();
    return queue::job_outcome::retry_later(started.error().message);
  }

  auto binding = models.bind("planner");
  if (!binding) return fail_run(ctx, run.id, "model_config", binding.error().message);
  scope work(*this, run.id, ctx.stop, time_left(loaded_run{run, opts}));

  auto prompt = replan ? prompts.render("replan", replan_context)
                       : prompts.render("planner", {{"task", run.input},
                                                    {"tools", tools_context(opts)},
                                                    {"max_steps", opts.max_steps}});
  if (!prompt) return fail_run(ctx, run.id, "internal", prompt.error().message);

  llm::chat_request request = binding->defaults;
  if (opts.planner_model) request.model = *opts.planner_model;
  request.temperature = 0.2;
  request.json_schema = dump(plan_schema(tools, rules));
  request.json_schema_name = "plan";
  request.messages = {{"user", *prompt, {}, {}}};
  llm::call_options call;
  call.stop = work.token();
  call.run_id = run.id;
  call.step_id = step.id;
  call.role = replan ? "replan" : "planner";

  std::int64_t tokens_in = 0;
  std::int64_t tokens_out = 0;
  const auto began = std::chrono::steady_clock::now();
  auto on_model_error = [&](const llm::llm_error& e) {
    if (work.cause() == stop_cause::shutdown) {
      return queue::job_outcome::retry_later("stopped by shutdown");
    }
    if (work.cause() == stop_cause::run_ended) return queue::job_outcome::success();
    if (work.cause() == stop_cause::timeout) {
      return fail_run(ctx, run.id, "deadline", deadline_message(opts));
    }
    return fail_run(ctx, run.id,
                    e.kind == llm::failure::unreachable ? "model_unreachable" : "model_error",
                    model_failure_message(e, "planner"));
  };
  auto answer = call_model(*binding, request, call);
  if (!answer) return on_model_error(answer.error());
  if (answer->usage) {
    tokens_in += answer->usage->prompt_tokens;
    tokens_out += answer->usage->completion_tokens;
  }
  auto parsed = parse_plan(answer->content, tools, rules);
  if (!parsed) {
    // One repair call that shows the model its mistake.
    auto repair = prompts.render("repair", {{"error", parsed.error().message}});
    if (!repair) return fail_run(ctx, run.id, "internal", repair.error().message);
    request.messages.push_back({"assistant", answer->content, {}, {}});
    request.messages.push_back({"user", *repair, {}, {}});
    call.role = "repair";
    auto second = call_model(*binding, request, call);
    if (!second) return on_model_error(second.error());
    if (second->usage) {
      tokens_in += second->usage->prompt_tokens;
      tokens_out += second->usage->completion_tokens;
    }
    auto reparsed = parse_plan(second->content, tools, rules);
    if (!reparsed) {
      const auto why =
          "the planner's plan was invalid twice (after one repair): " + reparsed.error().message;
      auto r = store.transact([&](transaction& tx) -> result<void> {
        auto current = tx.get_run(run.id);
        if (!current) return tl::unexpected(current.error());
        if (!*current || is_terminal((*current)->status)) return ctx.ack_in(tx);
        run = **current;
        step.status = "failed";
        step.error = why;
        step.output = second->content;
        step.finished_at = tx.now();
        step.tokens_in = tokens_in;
        step.tokens_out = tokens_out;
        if (auto e = tx.upsert_step(step); !e) return e;
        if (auto e = emit(tx, run.id, "step.failed",
                          {{"error", {{"code", "plan_invalid"}, {"message", why}}},
                           {"metrics", {{"tokens_in", tokens_in}, {"tokens_out", tokens_out}}}},
                          &step);
            !e) {
          return e;
        }
        auto ended = charge(tx, run, opts, tokens_in, tokens_out, request.model);
        if (!ended) return tl::unexpected(ended.error());
        if (!*ended) {
          if (auto e = end_run(tx, run, run_status::failed, "plan_invalid", why); !e) return e;
        }
        return ctx.ack_in(tx);
      });
      if (!r) return queue::job_outcome::retry_later(r.error().message);
      ctx.mark_acked();
      return queue::job_outcome::success();
    }
    parsed = std::move(reparsed);
  }

  const auto latency = std::chrono::duration_cast<millis>(std::chrono::steady_clock::now() - began);
  auto stored = store.transact([&](transaction& tx) -> result<void> {
    auto current = tx.get_run(run.id);
    if (!current) return tl::unexpected(current.error());
    if (!*current || is_terminal((*current)->status)) return ctx.ack_in(tx);
    run = **current;
    step.status = "completed";
    step.output = dump(parsed->to_json());
    step.finished_at = tx.now();
    step.tokens_in = tokens_in;
    step.tokens_out = tokens_out;
    step.latency_ms = latency.count();
    if (auto e = tx.upsert_step(step); !e) return e;
    json metrics = {
        {"tokens_in", tokens_in}, {"tokens_out", tokens_out}, {"latency_ms", latency.count()}};
    if (auto e =
            emit(tx, run.id, "step.completed",
                 {{"metrics", metrics}, {"result", {{"status", "ok"}, {"outputs", json::array()}}}},
                 &step);
        !e) {
      return e;
    }
    auto ended = charge(tx, run, opts, tokens_in, tokens_out, request.model);
    if (!ended) return tl::unexpected(ended.error());
    if (*ended) return ctx.ack_in(tx);
    json plan_body = {{"plan", parsed->to_json()},
                      {"prompt_version", *step.prompt_version},
                      {"replan", replan},
                      {"metrics", metrics}};
    if (auto e = emit(tx, run.id, "plan.created", plan_body, &step); !e) return e;

    if (replan) {
      // Steps of the old plan that never ran are dropped, and the failed ones marked as
      // replaced; the new plan's steps take their place.
      auto all = tx.list_steps(run.id);
      if (!all) return tl::unexpected(all.error());
      for (auto& s : *all) {
        if (is_worker(s) && (s.status == "pending" || s.status == "failed")) {
          s.status = s.status == "pending" ? "skipped" : "replanned";
          if (auto e = tx.upsert_step(s); !e) return e;
        }
      }
    }
    if (opts.require_approval && !replan) {
      run.status = run_status::awaiting_input;
      if (auto e = tx.update_run(run); !e) return e;
      int model_calls = 1;  // the solver
      for (const auto& ps : parsed->steps) model_calls += ps.tool == "llm" ? 1 : 0;
      const auto per_call = std::max<std::int64_t>(tokens_in + tokens_out, 500);
      const auto tokens = per_call * model_calls;
      std::set<std::string> used;
      for (const auto& ps : parsed->steps) used.insert(ps.tool);
      json estimate = {{"model_calls", model_calls},
                       {"tokens", tokens},
                       {"cost", cost_of(request.model, tokens / 2, tokens / 2)}};
      if (auto e = emit(tx, run.id, "run.awaiting_input",
                        {{"plan", parsed->to_json()}, {"tools", used}, {"estimate", estimate}});
          !e) {
        return e;
      }
      return ctx.ack_in(tx);
    }
    if (auto e = tx.update_run(run); !e) return e;
    if (auto e = add_plan_steps(tx, run, *parsed); !e) return e;
    auto all = tx.list_steps(run.id);
    if (!all) return tl::unexpected(all.error());
    if (auto e = release_ready(tx, run, *all); !e) return e;
    return ctx.ack_in(tx);
  });
  if (!stored)
    return queue::job_outcome::retry_later("storing the plan: " + stored.error().message);
  ctx.mark_acked();
  if (is_terminal(run.status)) stop_run_work(run.id);
  return queue::job_outcome::success();
}

// ---------------------------------------------------------------------------------------
// one plan step

queue::job_outcome engine::impl::handle_step(const queue::job_context& ctx) {
  auto payload = parse_payload(ctx.job.payload);
  if (!payload || payload->step.empty()) {
    return queue::job_outcome::fail_permanently("run.step job without run_id and step");
  }
  const obs::log_scope log_run({.run_id = payload->run_id});
  auto loaded = load(ctx, payload->run_id);
  if (auto* outcome = std::get_if<queue::job_outcome>(&loaded)) return *outcome;
  auto& current_run = std::get<loaded_run>(loaded);
  // Named references, not a structured binding: clang 14 cannot capture those in lambdas.
  auto& run = current_run.run;
  auto& opts = current_run.options;

  auto steps = store.list_steps(run.id);
  if (!steps) return queue::job_outcome::retry_later(steps.error().message);
  const auto name = worker_name(payload->step);
  auto* found = find_step(*steps, name);
  if (found == nullptr)
    return queue::job_outcome::fail_permanently("run " + run.id + " has no step " + name);
  if (found->status != "pending" && found->status != "running" && found->status != "retrying") {
    return queue::job_outcome::success();  // its result is stored: never run it again
  }
  step_record step = *found;

  // Evidence and arguments.
  std::map<std::string, std::string, std::less<>> evidence;
  for (const auto& s : *steps) {
    if (is_worker(s) && s.status == "completed") evidence[evidence_of(s)] = s.output.value_or("");
  }
  json plan_args = json::parse(step.args_json, nullptr, false);
  auto args = substitute_evidence(plan_args, evidence);
  const std::string tool_name = step.tool.value_or("");
  const auto args_hash = sha256_hex(dump(plan_args)).substr(0, 16);
  const auto idempotency_key = run.id + ":" + payload->step + ":" + args_hash;

  auto started = store.transact([&](transaction& tx) -> result<void> {
    auto current = tx.get_run(run.id);
    if (!current) return tl::unexpected(current.error());
    if (!*current || is_terminal((*current)->status)) return fail(errc::cancelled, "run ended");
    // A replan may have dropped the step since it was read.
    auto now_steps = tx.list_steps(run.id);
    if (!now_steps) return tl::unexpected(now_steps.error());
    auto* now_step = find_step(*now_steps, name);
    if (now_step == nullptr || now_step->status == "skipped" || now_step->status == "replanned" ||
        now_step->status == "completed" || now_step->status == "failed") {
      return fail(errc::cancelled, "step no longer runnable");
    }
    step.status = "running";
    step.attempts += 1;
    if (!step.started_at) step.started_at = tx.now();
    if (auto r = tx.upsert_step(step); !r) return r;
    if (auto r = emit(tx, run.id, "step.started", {{"tool", tool_name}, {"attempt", step.attempts}},
                      &step);
        !r) {
      return r;
    }
    return emit(tx, run.id, "tool.requested",
                {{"tool", tool_name},
                 {"args", args ? *args : plan_args},
                 {"idempotency_key", idempotency_key}},
                &step);
  });
  if (!started) {
    if (started.error().code == errc::cancelled) return queue::job_outcome::success();
    return queue::job_outcome::retry_later(started.error().message);
  }

  result<tools::tool_output> output = tl::unexpected(error{});
  const auto began = std::chrono::steady_clock::now();
  stop_cause cause = stop_cause::none;
  const bool deadline_bound = time_left(current_run) < opts.step_timeout;
  if (!args) {
    output = tl::unexpected(args.error());
  } else {
    scope work(*this, run.id, ctx.stop, std::min(opts.step_timeout, time_left(current_run)));
    tools::tool_context tctx{run.id,       payload->step,     idempotency_key,
                             work.token(), opts.step_timeout, step.id};
    output = tools.invoke(tool_name, *args, tctx);
    cause = work.cause();
  }
  const auto latency = std::chrono::duration_cast<millis>(std::chrono::steady_clock::now() - began);
  if (cause == stop_cause::shutdown) return queue::job_outcome::retry_later("stopped by shutdown");
  if (cause == stop_cause::run_ended) return queue::job_outcome::success();
  if (!output && cause == stop_cause::timeout && deadline_bound) {
    return fail_run(ctx, run.id, "deadline", deadline_message(opts));
  }
  if (!output && cause == stop_cause::timeout) {
    output = tl::unexpected(
        error{errc::timeout,
              "the step timed out after " +
                  json(static_cast<double>(opts.step_timeout.count()) / 1000.0).dump() + " s",
              false});
  }

  const bool retry =
      !output && output.error().retryable && step.attempts < options.step_max_attempts;
  const auto retry_in = retry ? retry_delay(options.step_backoff, step.attempts) : millis(0);
  bool ended = false;
  bool run_over = false;  // the run ended meanwhile: the job is acked, never retried
  auto stored = store.transact([&](transaction& tx) -> result<void> {
    auto current = tx.get_run(run.id);
    if (!current) return tl::unexpected(current.error());
    if (!*current || is_terminal((*current)->status)) {
      run_over = true;
      return ctx.ack_in(tx);
    }
    run = **current;
    step.latency_ms = latency.count();
    json metrics = {{"tokens_in", output ? output->tokens_in : 0},
                    {"tokens_out", output ? output->tokens_out : 0},
                    {"latency_ms", latency.count()}};
    if (output) {
      step.status = "completed";
      step.output = output->text;
      step.error.reset();
      step.finished_at = tx.now();
      step.tokens_in = output->tokens_in;
      step.tokens_out = output->tokens_out;
      if (auto e = tx.upsert_step(step); !e) return e;
      if (auto e = emit(tx, run.id, "tool.result",
                        {{"tool", tool_name},
                         {"status", "ok"},
                         {"output", excerpt(output->text, k_event_output_bytes)}},
                        &step);
          !e) {
        return e;
      }
      if (auto e =
              emit(tx, run.id, "step.completed",
                   {{"metrics", metrics},
                    {"result",
                     {{"status", "ok"},
                      {"outputs",
                       json::array({{{"key", payload->step},
                                     {"value", excerpt(output->text, k_event_output_bytes)}}})}}}},
                   &step);
          !e) {
        return e;
      }
      auto over = charge(tx, run, opts, output->tokens_in, output->tokens_out, output->model);
      if (!over) return tl::unexpected(over.error());
      if (*over) {
        ended = true;
        return ctx.ack_in(tx);
      }
      if (auto e = tx.update_run(run); !e) return e;
      auto all = tx.list_steps(run.id);
      if (!all) return tl::unexpected(all.error());
      if (auto e = release_ready(tx, run, *all); !e) return e;
      return ctx.ack_in(tx);
    }

    const auto& err = output.error();
    if (auto e = emit(tx, run.id, "tool.result",
                      {{"tool", tool_name}, {"status", "error"}, {"error", err.message}}, &step);
        !e) {
      return e;
    }
    if (retry) {
      step.status = "retrying";
      step.error = err.message;
      if (auto e = tx.upsert_step(step); !e) return e;
      return emit(
          tx, run.id, "step.retrying",
          {{"attempt", step.attempts}, {"error", err.message}, {"retry_in_ms", retry_in.count()}},
          &step);
    }
    step.status = "failed";
    step.error = err.message;
    step.finished_at = tx.now();
    if (auto e = tx.upsert_step(step); !e) return e;
    if (auto e =
            emit(tx, run.id, "step.failed",
                 {{"error", {{"code", std::string(to_string(err.code))}, {"message", err.message}}},
                  {"metrics", metrics}},
                 &step);
        !e) {
      return e;
    }
    auto all = tx.list_steps(run.id);
    if (!all) return tl::unexpected(all.error());
    int replans = 0;
    for (const auto& s : *all) replans += s.name.starts_with("replanner.") ? 1 : 0;
    if (replans < opts.max_replans) {
      if (auto e = release_ready(tx, run, *all); !e) return e;
      return ctx.ack_in(tx);
    }
    ended = true;
    if (auto e = end_run(tx, run, run_status::failed, "step_failed",
                         "step " + payload->step + " (" + tool_name + ") failed: " + err.message);
        !e) {
      return e;
    }
    return ctx.ack_in(tx);
  });
  if (!stored)
    return queue::job_outcome::retry_later("storing the step: " + stored.error().message);
  if (retry && !run_over) return queue::job_outcome::retry_later(output.error().message, retry_in);
  ctx.mark_acked();
  if (ended) stop_run_work(run.id);
  return queue::job_outcome::success();
}

// ---------------------------------------------------------------------------------------
// solve

queue::job_outcome engine::impl::handle_solve(const queue::job_context& ctx) {
  auto payload = parse_payload(ctx.job.payload);
  if (!payload) return queue::job_outcome::fail_permanently(payload.error().message);
  const obs::log_scope log_run({.run_id = payload->run_id});
  auto loaded = load(ctx, payload->run_id);
  if (auto* outcome = std::get_if<queue::job_outcome>(&loaded)) return *outcome;
  auto& current_run = std::get<loaded_run>(loaded);
  // Named references, not a structured binding: clang 14 cannot capture those in lambdas.
  auto& run = current_run.run;
  auto& opts = current_run.options;

  auto steps = store.list_steps(run.id);
  if (!steps) return queue::job_outcome::retry_later(steps.error().message);
  json evidence = json::array();
  std::map<std::string, std::string, std::less<>> outputs;
  for (const auto& s : *steps) {
    if (is_worker(s) && s.status == "completed") outputs[evidence_of(s)] = s.output.value_or("");
  }
  for (const auto& s : *steps) {
    if (!is_worker(s) || s.status != "completed") continue;
    json plan_args = json::parse(s.args_json, nullptr, false);
    auto args = substitute_evidence(plan_args, outputs);
    evidence.push_back({{"id", evidence_of(s)},
                        {"tool", s.tool.value_or("")},
                        {"args", dump(args ? *args : plan_args)},
                        {"output", s.output.value_or("")}});
  }

  step_record step;
  auto started = store.transact([&](transaction& tx) -> result<void> {
    auto current = tx.get_run(run.id);
    if (!current) return tl::unexpected(current.error());
    if (!*current || is_terminal((*current)->status)) return fail(errc::cancelled, "run ended");
    auto all = tx.list_steps(run.id);
    if (!all) return tl::unexpected(all.error());
    if (auto* s = find_step(*all, k_solver)) {
      step = *s;
    } else {
      step.id = new_id("step", tx.now());
      step.run_id = run.id;
      step.name = std::string(k_solver);
      step.started_at = tx.now();
    }
    step.status = "running";
    step.attempts += 1;
    step.prompt_version = prompts.version("solver");
    if (auto r = tx.upsert_step(step); !r) return r;
    return emit(tx, run.id, "step.started",
                {{"attempt", step.attempts}, {"prompt_version", *step.prompt_version}}, &step);
  });
  if (!started) {
    if (started.error().code == errc::cancelled) return queue::job_outcome::success();
    return queue::job_outcome::retry_later(started.error().message);
  }

  auto binding = models.bind("solver");
  if (!binding) return fail_run(ctx, run.id, "model_config", binding.error().message);
  auto prompt = prompts.render("solver", {{"task", run.input}, {"steps", evidence}});
  if (!prompt) return fail_run(ctx, run.id, "internal", prompt.error().message);
  llm::chat_request request = binding->defaults;
  if (opts.solver_model) request.model = *opts.solver_model;
  if (opts.temperature) request.temperature = *opts.temperature;
  request.stream = true;
  request.messages = {{"user", *prompt, {}, {}}};

  // Streamed text is stored as llm.delta events, a few per second at most.
  std::string pending;
  auto first_pending = std::chrono::steady_clock::now();
  auto flush = [&](transaction& tx) -> result<void> {
    if (pending.empty()) return {};
    auto r = emit(tx, run.id, "llm.delta", {{"delta", pending}}, &step);
    pending.clear();
    return r;
  };
  scope work(*this, run.id, ctx.stop, time_left(current_run));
  llm::call_options call;
  call.stop = work.token();
  call.run_id = run.id;
  call.step_id = step.id;
  call.role = "solver";
  call.on_delta = [&](std::string_view delta) {
    if (pending.empty()) first_pending = std::chrono::steady_clock::now();
    pending += delta;
    if (pending.size() >= options.delta_flush_bytes ||
        std::chrono::steady_clock::now() - first_pending >= options.delta_flush_interval) {
      // A delta that cannot be stored is not fatal: the full answer is stored at the end.
      (void)store.transact([&](transaction& tx) { return flush(tx); });
    }
  };
  const auto began = std::chrono::steady_clock::now();
  auto answer = call_model(*binding, request, call);
  const auto latency = std::chrono::duration_cast<millis>(std::chrono::steady_clock::now() - began);
  if (!answer) {
    if (work.cause() == stop_cause::shutdown)
      return queue::job_outcome::retry_later("stopped by shutdown");
    if (work.cause() == stop_cause::run_ended) return queue::job_outcome::success();
    if (work.cause() == stop_cause::timeout) {
      return fail_run(ctx, run.id, "deadline", deadline_message(opts));
    }
    return fail_run(
        ctx, run.id,
        answer.error().kind == llm::failure::unreachable ? "model_unreachable" : "model_error",
        model_failure_message(answer.error(), "solver"));
  }
  const std::int64_t tokens_in = answer->usage ? answer->usage->prompt_tokens : 0;
  const std::int64_t tokens_out = answer->usage ? answer->usage->completion_tokens : 0;
  bool ended = false;
  auto stored = store.transact([&](transaction& tx) -> result<void> {
    auto current = tx.get_run(run.id);
    if (!current) return tl::unexpected(current.error());
    if (!*current || is_terminal((*current)->status)) return ctx.ack_in(tx);
    run = **current;
    if (auto e = flush(tx); !e) return e;
    step.status = "completed";
    step.output = answer->content;
    step.finished_at = tx.now();
    step.tokens_in = tokens_in;
    step.tokens_out = tokens_out;
    step.latency_ms = latency.count();
    if (auto e = tx.upsert_step(step); !e) return e;
    json metrics = {
        {"tokens_in", tokens_in}, {"tokens_out", tokens_out}, {"latency_ms", latency.count()}};
    json result_body = {
        {"status", "ok"},
        {"outputs", json::array({{{"key", "answer"}, {"value", answer->content}}})}};
    if (!answer->usage) metrics["usage_reported"] = false;
    if (auto e = emit(tx, run.id, "step.completed", {{"metrics", metrics}, {"result", result_body}},
                      &step);
        !e) {
      return e;
    }
    ended = true;
    auto over = charge(tx, run, opts, tokens_in, tokens_out, request.model);
    if (!over) return tl::unexpected(over.error());
    if (*over) return ctx.ack_in(tx);
    run.answer = answer->content;
    if (auto e = end_run(tx, run, run_status::completed, "", ""); !e) return e;
    return ctx.ack_in(tx);
  });
  if (!stored)
    return queue::job_outcome::retry_later("storing the answer: " + stored.error().message);
  ctx.mark_acked();
  if (ended) stop_run_work(run.id);
  return queue::job_outcome::success();
}

queue::job_outcome engine::impl::handle_deadline(const queue::job_context& ctx) {
  auto payload = parse_payload(ctx.job.payload);
  if (!payload) return queue::job_outcome::fail_permanently(payload.error().message);
  const obs::log_scope log_run({.run_id = payload->run_id});
  // load() fails the run when its deadline has passed, and does nothing to ended runs.
  auto loaded = load(ctx, payload->run_id);
  if (auto* outcome = std::get_if<queue::job_outcome>(&loaded)) return *outcome;
  // Woken early (a clock step): look again when the deadline is due.
  return queue::job_outcome::retry_later("deadline not reached yet",
                                         time_left(std::get<loaded_run>(loaded)));
}

// ---------------------------------------------------------------------------------------
// public API

engine::engine(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
engine::~engine() = default;

// The `llm` tool: a plain model call (ReWOO's LLM tool), recorded and replayed like every
// other model call of the run.
class llm_tool final : public tools::tool {
 public:
  explicit llm_tool(engine::impl& owner) : owner_(owner) {}
  [[nodiscard]] std::string_view name() const override { return "llm"; }
  [[nodiscard]] std::string_view description() const override {
    return "Asks a language model a question and returns its answer. Use it to reason over, "
           "summarise or extract from earlier evidence (refer to it as #E1).";
  }
  [[nodiscard]] const json& parameters() const override {
    static const json schema = {
        {"type", "object"},
        {"properties", {{"prompt", {{"type", "string"}, {"minLength", 1}, {"maxLength", 100000}}}}},
        {"required", {"prompt"}},
        {"additionalProperties", false}};
    return schema;
  }
  [[nodiscard]] result<tools::tool_output> invoke(const json& args,
                                                  const tools::tool_context& ctx) override {
    auto binding = owner_.models.bind("llm");
    if (!binding) return tl::unexpected(binding.error());
    auto prompt = owner_.prompts.render("llm_tool", {{"prompt", args.value("prompt", "")}});
    if (!prompt) return tl::unexpected(prompt.error());
    llm::chat_request request = binding->defaults;
    request.messages = {{"user", *prompt, {}, {}}};
    auto run = owner_.store.get_run(ctx.run_id);
    if (run && *run) {
      if (auto opts = stored_run_options((*run)->options_json); opts && opts->temperature) {
        request.temperature = opts->temperature;
      }
    }
    llm::call_options call;
    call.stop = ctx.stop;
    call.run_id = ctx.run_id;
    if (!ctx.step_id.empty()) call.step_id = ctx.step_id;
    call.role = "llm";
    auto answer = owner_.call_model(*binding, request, call);
    if (!answer) {
      auto e = llm::to_error(answer.error());
      if (ctx.stop.stop_requested()) e.code = errc::cancelled;
      return tl::unexpected(e);
    }
    tools::tool_output out;
    out.text = answer->content;
    out.model = request.model;
    if (answer->usage) {
      out.tokens_in = answer->usage->prompt_tokens;
      out.tokens_out = answer->usage->completion_tokens;
    }
    return out;
  }

 private:
  engine::impl& owner_;
};

result<std::unique_ptr<engine>> engine::create(store::store& st, tools::tool_registry& tools,
                                               model_hub& models, engine_options options) {
  auto prompts = prompt_set::load(options.defaults.prompts_dir);
  if (!prompts) return tl::unexpected(prompts.error());
  auto p = std::make_unique<impl>(st, tools, models, std::move(options), std::move(*prompts));
  if (tools.find("llm") == nullptr) {
    if (auto r = tools.add(std::make_unique<llm_tool>(*p)); !r) return tl::unexpected(r.error());
  }
  return std::unique_ptr<engine>(new engine(std::move(p)));
}

void engine::register_handlers(queue::worker_pool& pool) {
  auto* p = impl_.get();
  pool.register_handler(std::string(k_topic_plan),
                        [p](const queue::job_context& c) { return p->handle_plan(c, false); });
  pool.register_handler(std::string(k_topic_replan),
                        [p](const queue::job_context& c) { return p->handle_plan(c, true); });
  pool.register_handler(std::string(k_topic_step),
                        [p](const queue::job_context& c) { return p->handle_step(c); });
  pool.register_handler(std::string(k_topic_solve),
                        [p](const queue::job_context& c) { return p->handle_solve(c); });
  pool.register_handler(std::string(k_topic_deadline),
                        [p](const queue::job_context& c) { return p->handle_deadline(c); });
}

result<store::run_record> engine::create_run(const create_run_request& request) {
  auto& p = *impl_;
  if (request.input.empty()) return fail(errc::invalid_argument, "input: must not be empty");
  if (request.input.size() > k_max_input_bytes) {
    return fail(errc::invalid_argument, "input: longer than 64 KiB");
  }
  auto opts = parse_run_options(request.options, p.options.defaults, p.tools);
  if (!opts) return tl::unexpected(opts.error());
  run_record run;
  auto r = p.store.transact([&](transaction& tx) -> result<void> {
    run.id = new_id("run", tx.now());
    run.status = run_status::queued;
    run.input = request.input;
    run.options_json = dump(opts->to_json());
    run.owner_key_id = request.owner_key_id;
    run.idempotency_key = request.idempotency_key;
    run.request_hash = request.request_hash;
    run.trace_parent = request.trace_parent;
    run.created_at = tx.now();
    if (auto e = tx.insert_run(run); !e) return e;
    if (auto e =
            p.emit(tx, run.id, "run.created", {{"input", run.input}, {"options", opts->to_json()}});
        !e) {
      return e;
    }
    if (auto e = p.enqueue(tx, k_topic_plan, {{"run_id", run.id}}, "plan:" + run.id); !e) return e;
    return p.enqueue(tx, k_topic_deadline, {{"run_id", run.id}}, "deadline:" + run.id,
                     opts->deadline);
  });
  if (!r) return tl::unexpected(r.error());
  run.last_seq = 1;
  return run;
}

result<void> engine::cancel_run(std::string_view run_id, const std::string& reason) {
  auto& p = *impl_;
  auto r = p.store.transact([&](transaction& tx) -> result<void> {
    auto run = tx.get_run(run_id);
    if (!run) return tl::unexpected(run.error());
    if (!*run) return fail(errc::not_found, "no run " + std::string(run_id));
    if (is_terminal((*run)->status)) {
      return fail(errc::conflict, "run " + std::string(run_id) + " already ended (" +
                                      std::string(to_string((*run)->status)) + ")");
    }
    return p.end_run(tx, **run, run_status::cancelled, "cancelled",
                     reason.empty() ? std::string("cancelled by request") : reason);
  });
  if (!r) return r;
  p.stop_run_work(run_id);
  return {};
}

result<void> engine::approve_run(std::string_view run_id, const approval& decision) {
  auto& p = *impl_;
  auto r = p.store.transact([&](transaction& tx) -> result<void> {
    auto found = tx.get_run(run_id);
    if (!found) return tl::unexpected(found.error());
    if (!*found) return fail(errc::not_found, "no run " + std::string(run_id));
    auto run = **found;
    if (run.status != run_status::awaiting_input) {
      return fail(errc::conflict, "run " + run.id + " is not awaiting approval (it is " +
                                      std::string(to_string(run.status)) + ")");
    }
    if (!decision.approve) {
      return p.end_run(tx, run, run_status::cancelled, "plan_rejected",
                       decision.reason.empty() ? std::string("the plan was rejected")
                                               : "the plan was rejected: " + decision.reason);
    }
    auto opts = stored_run_options(run.options_json);
    if (!opts) return tl::unexpected(opts.error());
    auto steps = tx.list_steps(run.id);
    if (!steps) return tl::unexpected(steps.error());
    auto* planner = find_step(*steps, k_planner);
    if (planner == nullptr || !planner->output)
      return fail(errc::internal, "the run has no stored plan");
    plan_rules rules{opts->max_steps, opts->tools, {}};
    json doc = decision.plan ? *decision.plan : json::parse(*planner->output, nullptr, false);
    auto checked = validate_plan(doc, p.tools, rules);
    if (!checked) {
      return fail(errc::invalid_argument, "the edited plan is invalid: " + checked.error().message);
    }
    if (decision.plan) {
      planner->output = dump(checked->to_json());
      if (auto e = tx.upsert_step(*planner); !e) return e;
      if (auto e = p.emit(tx, run.id, "plan.created",
                          {{"plan", checked->to_json()},
                           {"prompt_version", planner->prompt_version.value_or("")},
                           {"replan", false},
                           {"edited", true}},
                          planner);
          !e) {
        return e;
      }
    }
    run.status = run_status::running;
    if (auto e = tx.update_run(run); !e) return e;
    if (auto e = p.add_plan_steps(tx, run, *checked); !e) return e;
    auto all = tx.list_steps(run.id);
    if (!all) return tl::unexpected(all.error());
    return p.release_ready(tx, run, *all);
  });
  if (!r) return r;
  if (!decision.approve) p.stop_run_work(run_id);
  return {};
}

const tools::tool_registry& engine::tools() const { return impl_->tools; }
const prompt_set& engine::prompts() const { return impl_->prompts; }

}  // namespace grok::engine
