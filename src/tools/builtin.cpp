#include "tools/builtin.h"

#include "tools/calculator.h"
#include "tools/doc_search.h"
#include "tools/http_get.h"
#include "tools/web_page.h"

namespace grok::tools {

result<void> add_builtin_tools(tool_registry& registry, const config& c, store::store& st) {
  std::vector<std::unique_ptr<tool>> all;
  all.push_back(make_calculator_tool());
  all.push_back(make_http_get_tool(c.tools));
  all.push_back(make_web_page_tool(c.tools));
  all.push_back(make_doc_search_tool(st));
  for (auto& t : all) {
    if (auto r = registry.add(std::move(t)); !r) return r;
  }
  return {};
}

}  // namespace grok::tools
