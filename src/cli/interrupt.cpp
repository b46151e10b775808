#include "cli/interrupt.h"

#include <pthread.h>

#include <cstdlib>
#include <ctime>
#include <iostream>

namespace grok::cli {

interrupt_watch::interrupt_watch() {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGINT);
  sigaddset(&signals_, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
}

interrupt_watch::~interrupt_watch() { stop(); }

void interrupt_watch::stop() {
  done_ = true;
  if (thread_.joinable()) thread_.join();
}

void interrupt_watch::start(std::function<void()> cancel) {
  thread_ = std::thread([this, cancel = std::move(cancel)] {
    const timespec tick{0, 100'000'000};
    while (!done_) {
      if (sigtimedwait(&signals_, nullptr, &tick) < 0) continue;
      if (!interrupted_.exchange(true)) {
        std::cerr << "\ninterrupted: cancelling the run (press Ctrl-C again to quit at once)\n";
        cancel();
      } else {
        std::_Exit(130);
      }
    }
  });
}

}  // namespace grok::cli
