// Ctrl-C for commands that follow a run in the terminal (`grok run`, local or --server):
// the first SIGINT/SIGTERM cancels the run, a second one quits at once with 130.
// Thread-safety: construct on the main thread before any other thread starts (it blocks
// the signals so that every later thread inherits the mask); the cancel callback runs on
// the watcher's own thread.
#pragma once

#include <signal.h>

#include <atomic>
#include <functional>
#include <thread>

namespace grok::cli {

class interrupt_watch {
 public:
  interrupt_watch();
  ~interrupt_watch();  // stops watching
  interrupt_watch(const interrupt_watch&) = delete;
  interrupt_watch& operator=(const interrupt_watch&) = delete;

  // Starts watching; `cancel` is called once, on the first signal.
  void start(std::function<void()> cancel);
  // Stops watching (joins the thread); idempotent. Call it before what `cancel` uses goes.
  void stop();
  // True once a signal arrived.
  [[nodiscard]] bool interrupted() const noexcept { return interrupted_; }

 private:
  sigset_t signals_{};
  std::atomic<bool> done_{false};
  std::atomic<bool> interrupted_{false};
  std::thread thread_;
};

}  // namespace grok::cli
