// Placeholder: replaced by `grok audit verify`.
#include "cli/commands.h"

namespace grok::cli {

int run_audit_verify(const config& /*c*/, const audit_verify_options& /*o*/) {
  return report_error("grok audit verify is not built yet");
}

}  // namespace grok::cli
