// Placeholder: replaced by the audit part of `grok serve` (cli/serve_parts.h).
#include "cli/serve_parts.h"

namespace grok::cli {

result<serve_part_ptr> start_audit(const config& /*c*/, runtime& /*rt*/) {
  return std::make_unique<serve_part>();
}

}  // namespace grok::cli
