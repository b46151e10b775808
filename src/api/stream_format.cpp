#include "api/stream_format.h"

#include <nlohmann/json.hpp>

#include "engine/events.h"

namespace grok::api::detail {

std::string event_json(const store::event_record& e) {
  return engine::envelope(e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string sse_frame(const store::event_record& e, std::string_view json) {
  std::string out;
  out.reserve(json.size() + e.type.size() + 40);
  out += "id: ";
  out += std::to_string(e.seq);
  out += "\nevent: ";
  for (char c : e.type) {
    if (c != '\n' && c != '\r') out += c;
  }
  out += "\ndata: ";
  out += json;
  out += "\n\n";
  return out;
}

}  // namespace grok::api::detail
