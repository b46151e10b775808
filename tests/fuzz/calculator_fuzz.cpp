// libFuzzer target: arbitrary bytes as a calculator expression, the one tool argument a
// model writes that is parsed rather than passed on. Any crash, hang or sanitizer report
// is a bug; every input must end in a finite value or an error.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tools/calculator.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto value = grok::tools::evaluate_expression(bytes);
  if (value) {
    if (!std::isfinite(*value)) std::abort();  // the contract: finite or an error
    if (grok::tools::format_number(*value).empty()) std::abort();
  } else if (value.error().message.empty()) {
    std::abort();
  }
  return 0;
}
