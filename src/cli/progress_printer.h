// Rendering run events for a person at a terminal: progress on stderr, the answer on
// stdout. Shared by `grok run` (local and --server) and `grok replay`.
// Thread-safety: one printer per run, used from one thread.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace grok::cli {

// One line of JSON (invalid UTF-8 replaced).
[[nodiscard]] std::string compact(const nlohmann::json& j);

class progress_printer {
 public:
  // Prints one event envelope (SPEC §4); unknown event types print nothing.
  void print(const nlohmann::json& e);

 private:
  static void summary(const nlohmann::json& e, std::string_view what);

  std::size_t streamed_ = 0;
  bool ends_with_newline_ = true;
};

// Asks on the terminal whether to run a plan waiting for approval; anything but y/yes is no.
[[nodiscard]] bool ask_approval();

}  // namespace grok::cli
