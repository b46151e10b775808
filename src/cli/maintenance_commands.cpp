// Placeholder: replaced by `grok prune`, `grok backup`, `grok backup verify`, `grok restore`.
#include "cli/commands.h"

namespace grok::cli {

int run_prune(const config& /*c*/, const prune_options& /*o*/) {
  return report_error("grok prune is not built yet");
}
int run_backup(const config& /*c*/, const std::string& /*to*/) {
  return report_error("grok backup is not built yet");
}
int run_backup_verify(const config& /*c*/, const std::string& /*path*/, bool /*json*/) {
  return report_error("grok backup verify is not built yet");
}
int run_restore(const config& /*c*/, const restore_options& /*o*/) {
  return report_error("grok restore is not built yet");
}

}  // namespace grok::cli
