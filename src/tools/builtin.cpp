#include "tools/builtin.h"

namespace grok::tools {

result<void> add_builtin_tools(tool_registry& registry, const config& c, store::store& st) {
  (void)registry;
  (void)c;
  (void)st;
  return {};
}

}  // namespace grok::tools
