// libFuzzer target: arbitrary bytes from a model server, through the event-stream parser,
// the chunk assembler and the plain-response parser. Any crash, hang or sanitizer report
// is a bug; every input must end in a value or an error.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "llm/openai_wire.h"
#include "llm/sse_parser.h"
#include "llm/stream_accumulator.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // The first byte picks where the stream is cut into two network reads.
  const std::size_t cut = size == 0 ? 0 : data[0] % (size + 1);
  grok::llm::sse_parser parser({.max_line_bytes = 4096, .max_event_bytes = 16384});
  grok::llm::stream_accumulator accumulator;
  std::vector<grok::llm::sse_event> events;
  if (parser.feed(bytes.substr(0, cut), events) && parser.feed(bytes.substr(cut), events)) {
    parser.finish(events);
  }
  for (const auto& e : events) {
    if (e.data != "[DONE]") (void)accumulator.add_chunk(e.data);
  }
  (void)accumulator.response();
  (void)grok::llm::parse_response_body(bytes);
  (void)grok::llm::error_message_from_body(bytes);
  (void)grok::llm::safe_excerpt(bytes, 64);
  return 0;
}
