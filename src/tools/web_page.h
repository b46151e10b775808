// The `web_page` tool (SPEC §5): fetches a page with http_fetch (same limits and address
// checks as http_get) and turns HTML into readable text and links.
//
// Thread-safety: html_to_text is a pure function; the tool holds only constant state.
#pragma once

#include <chrono>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/result.h"
#include "tools/tool.h"

namespace grok::tools {

inline constexpr std::size_t k_web_page_max_links = 50;

struct html_limits {
  std::chrono::milliseconds time{5'000};  // for parsing; a normal page needs milliseconds
  std::stop_token stop;
};

struct page_link {
  std::string text;  // the anchor's text, whitespace collapsed; may be empty
  std::string url;   // absolute http or https
};

struct page_text {
  std::string title;
  std::string text;              // one line per block element, whitespace collapsed within lines
  std::vector<page_link> links;  // first k_web_page_max_links distinct links, in order
};

// Parses `html` (UTF-8) with gumbo. Leaves out <head>, <script>, <style>, <noscript>,
// <template> and <svg> content. Relative links are resolved against `base_url` (or the
// page's <base href>); javascript:, mailto: and other non-http(s) links, and links to a
// fragment of this page, are skipped.
// Errors: errc::invalid_argument when parsing takes longer than `limits.time` (markup
// nested tens of thousands deep: gumbo's time grows with the square of the depth),
// errc::cancelled when `limits.stop` is requested meanwhile.
[[nodiscard]] result<page_text> html_to_text(std::string_view html, std::string_view base_url,
                                             const html_limits& limits = {});

// The `web_page` tool: {"url": string} → the title (or "(no title)"), "URL: <final URL>",
// a blank line, the text, and a "Links:" list of "- [text](url)" lines. Non-HTML text comes
// back as it is; binary content is errc::invalid_argument. Fetch errors as http_fetch's.
std::unique_ptr<tool> make_web_page_tool(const tools_config& config);

}  // namespace grok::tools
