// The tracing part of `grok serve` (cli/serve_parts.h): when an OTLP endpoint is
// configured, every run's spans go to it (obs/run_tracer.h, obs/otlp_exporter.h).
#include <spdlog/spdlog.h>

#include "cli/serve_parts.h"
#include "core/version.h"
#include "obs/otlp_exporter.h"
#include "obs/run_tracer.h"

namespace grok::cli {
namespace {

class tracing_part final : public serve_part {
 public:
  tracing_part(store::store& st, obs::otlp_exporter_options options)
      : exporter_(std::move(options)),
        tracer_(st, [this](obs::span s) { (void)exporter_.enqueue(std::move(s)); }) {}
  // The tracer goes first (members are destroyed in reverse): it turns the events it still
  // holds into spans, then the exporter sends what is queued, within export_timeout.
  ~tracing_part() override = default;

 private:
  obs::otlp_exporter exporter_;
  obs::run_tracer tracer_;
};

}  // namespace

result<serve_part_ptr> start_tracing(const config& c, runtime& rt) {
  if (c.otlp_endpoint.empty()) return std::make_unique<serve_part>();
  const auto url = obs::traces_url(c.otlp_endpoint);
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    return fail(errc::invalid_argument, "otlp_endpoint: must be an http:// or https:// URL (got " +
                                            obs::loggable_url(c.otlp_endpoint) + ")");
  }
  obs::otlp_exporter_options options;
  options.url = url;
  options.resource = {c.tracing.service_name, std::string(k_version)};
  options.max_queue_spans = c.tracing.max_queue_spans;
  options.max_batch_spans = c.tracing.max_batch_spans;
  options.flush_interval = c.tracing.flush_interval;
  options.export_timeout = c.tracing.export_timeout;
  spdlog::info("tracing: exporting spans as OTLP/HTTP JSON to {} (service.name {})",
               obs::loggable_url(url), c.tracing.service_name);
  return std::make_unique<tracing_part>(*rt.store, std::move(options));
}

}  // namespace grok::cli
