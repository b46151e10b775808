// The metrics part of `grok serve` and `grok worker` (cli/serve_parts.h): the scrape-time
// collectors (queue depth and lag from the store, the process figures), the run and step
// metrics from the events this process commits, and the build info gauge. The registry is
// process-wide; everything this part adds to it that refers to the runtime is removed when
// the part is destroyed.
#include "cli/serve_parts.h"
#include "core/version.h"
#include "obs/metrics.h"
#include "obs/process_metrics.h"
#include "obs/queue_metrics.h"
#include "obs/run_metrics.h"
#include "store/event_feed.h"

namespace grok::cli {
namespace {

class metrics_part final : public serve_part {
 public:
  explicit metrics_part(store::store& st)
      : queue_(st),
        queue_collector_(obs::metrics(), [this] { queue_.collect(); }),
        process_collector_(obs::metrics(), [] { obs::update_process_metrics(obs::metrics()); }),
        feed_(st.local_events_feed(),
              [this](const std::vector<store::event_record>& events) { runs_.on_events(events); }) {
  }

 private:
  // Declared before what refers to them, so destroyed after: the collectors and the feed
  // subscription are gone before the objects they call.
  obs::queue_metrics queue_;
  obs::run_metrics runs_;
  obs::collector_registration queue_collector_;
  obs::collector_registration process_collector_;
  store::feed_subscription feed_;
};

}  // namespace

result<serve_part_ptr> start_metrics(const config& /*c*/, runtime& rt) {
  obs::metrics()
      .gauge("grok_build_info", "Always 1; the labels describe the running build.", {"version"})
      .set({k_version}, 1);
  return std::make_unique<metrics_part>(*rt.store);
}

}  // namespace grok::cli
