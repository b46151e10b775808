// libFuzzer target: arbitrary grok.toml text through the configuration loader.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cli/config_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  grok::config c;
  (void)grok::cli::apply_toml(c, std::string_view(reinterpret_cast<const char*>(data), size),
                              "fuzz.toml");
  return 0;
}
