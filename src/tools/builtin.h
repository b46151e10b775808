// The built-in tools of SPEC §5, configured from the server's settings.
#pragma once

#include "core/config.h"
#include "core/result.h"
#include "store/store.h"
#include "tools/tool.h"

namespace grok::tools {

// Adds calculator, http_get, web_page and doc_search. (The `llm` tool is added by the
// engine, which owns model calls.)
[[nodiscard]] result<void> add_builtin_tools(tool_registry& registry, const config& c,
                                             store::store& st);

}  // namespace grok::tools
