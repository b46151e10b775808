// Live event fan-out for the streaming routes (SPEC §3, §4): one subscription to the
// store's event feed per process, and from it every open SSE and WebSocket session gets
// the events it may see, right after they commit, without reading the database per
// subscriber. A session that connects with `after = N` first catches up from the store
// (page by page, as its client takes them), then continues live, with no gap and no
// duplicate (events are delivered in seq order per run).
//
// Each session has a bounded send buffer (stream_buffer_bytes): a client that does not
// keep up is disconnected (SSE: the response ends; WebSocket: close 1008 "slow consumer:
// ...") and never slows the engine or other clients.
//
// Thread-safety: every public method may be called from any thread. The feed listener
// only copies events into the hub's queue; one fan-out thread formats each event once and
// hands it to the sessions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "api/stream_session.h"
#include "store/store.h"

namespace grok::api {

struct stream_limits {
  std::size_t max_buffer_bytes = 1024 * 1024;  // queued, unsent bytes per session
  int catch_up_page = 500;                     // events read from the store per page
  std::size_t max_ws_subscriptions = 256;      // runs one WebSocket may follow at once
};

// Who is looking: runs keys see their own runs, admin keys every run.
struct viewer {
  std::string key_id;
  bool admin = false;
};

class stream_hub {
 public:
  stream_hub(store::store& st, stream_limits limits);
  ~stream_hub();  // closes every session (as shutdown()), stops the fan-out thread
  stream_hub(const stream_hub&) = delete;
  stream_hub& operator=(const stream_hub&) = delete;

  // An SSE session for one run the caller may see (the route checked ownership): every
  // event with seq > after, each as "id: <seq>\nevent: <type>\ndata: <envelope>\n\n", and
  // the end after the terminal event (at once for a run that already ended).
  [[nodiscard]] std::shared_ptr<stream_session> open_sse(std::string run_id, std::int64_t after);

  // A WebSocket session. Client messages (JSON text):
  //   {"subscribe": "run_…", "after": N}   events of that run with seq > N (default 0)
  //   {"subscribe": "*"}                   live events of every run the viewer may see
  //   {"unsubscribe": "run_…" | "*"}
  //   {"ping": <any>}                      answered {"pong": <same>}
  // Each event is sent as its envelope (one text frame). Errors are {"error": <problem
  // body>} (bad JSON, unknown run, a run the viewer may not see: 404, too many
  // subscriptions); they do not close the connection.
  [[nodiscard]] std::shared_ptr<stream_session> open_websocket(viewer who);

  // Every open session ends (WebSocket: close 1001 "server shutting down").
  void shutdown();

  struct stats {
    std::size_t open_sse = 0;
    std::size_t open_websocket = 0;
    std::uint64_t events_fanned_out = 0;
    std::uint64_t slow_consumers_dropped = 0;
  };
  [[nodiscard]] stats current_stats() const;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace grok::api
