// The audit part of `grok serve` and `grok worker` (cli/serve_parts.h): an audit_writer
// (obs/audit_log.h) fed from the events this process commits (store::local_events_feed).
// The feed's listener only copies the events into the writer's bounded queue; destroying
// the part unsubscribes first, then drains the queue, syncs and closes the file.
#include <spdlog/spdlog.h>

#include "cli/serve_parts.h"
#include "engine/events.h"
#include "obs/audit_log.h"
#include "store/event_feed.h"

namespace grok::cli {
namespace {

class audit_part final : public serve_part {
 public:
  audit_part(store::store& st, std::unique_ptr<obs::audit_writer> writer)
      : writer_(std::move(writer)),
        feed_(st.local_events_feed(), [this](const std::vector<store::event_record>& events) {
          std::vector<obs::audit_event> copies;
          copies.reserve(events.size());
          for (const auto& e : events) {
            copies.push_back({engine::k_event_schema, e.type, e.seq, e.run_id, e.step_id, e.name,
                              e.ts, e.body_json});
          }
          writer_->submit(std::move(copies));
        }) {}

 private:
  // Declared first, so destroyed last: the subscription ends before the writer drains.
  std::unique_ptr<obs::audit_writer> writer_;
  store::feed_subscription feed_;
};

}  // namespace

result<serve_part_ptr> start_audit(const config& c, runtime& rt) {
  auto writer = obs::audit_writer::start(obs::audit_options_from(c));
  if (!writer) {
    if (writer.error().code == errc::busy) {
      // Several API processes may share one data directory; only one can own its log.
      spdlog::error(
          "audit: {}; this process writes no audit log (give each process its own "
          "audit.dir)",
          writer.error().message);
      return std::make_unique<serve_part>();
    }
    return fail(writer.error().code, "audit log: " + writer.error().message);
  }
  const auto& r = (*writer)->started();
  spdlog::info(
      "audit: writing to {}{} ({})", c.effective_audit_dir(),
      r.audit_seq > 0 ? ", continuing at audit_seq " + std::to_string(r.audit_seq + 1) : "",
      c.audit.secret.empty() ? "SHA-256 chain, no key" : "HMAC-SHA256 chain");
  return std::make_unique<audit_part>(*rt.store, std::move(*writer));
}

}  // namespace grok::cli
