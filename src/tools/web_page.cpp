#include "tools/web_page.h"

#include <curl/curl.h>
#include <gumbo.h>

#include <algorithm>
#include <chrono>
#include <csetjmp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "llm/openai_wire.h"
#include "tools/address_policy.h"
#include "tools/http_get.h"

namespace grok::tools {
namespace {

using steady = std::chrono::steady_clock;

constexpr std::size_t k_link_text_bytes = 120;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

// Collapses runs of white space (ASCII and U+00A0, which &nbsp; decodes to) into one space.
void append_collapsed(std::string& out, bool& pending_space, std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool nbsp = text[i] == '\xC2' && i + 1 < text.size() && text[i + 1] == '\xA0';
    if (is_space(text[i]) || nbsp) {
      pending_space = true;
      if (nbsp) ++i;
      continue;
    }
    if (pending_space && !out.empty()) out += ' ';
    pending_space = false;
    out += text[i];
  }
}

std::string collapse(std::string_view text) {
  std::string out;
  bool pending = false;
  append_collapsed(out, pending, text);
  return out;
}

// The readable text, one line per block; empty lines are dropped.
class text_builder {
 public:
  void add(std::string_view text) {
    if (preformatted_ > 0) {
      for (char c : text) {
        if (c == '\n') {
          end_line();
        } else if (c != '\r') {
          line_ += c;
        }
      }
      return;
    }
    append_collapsed(line_, pending_space_, text);
  }
  // A separator between table cells and the like: a space unless the line is empty.
  void space() { pending_space_ = !line_.empty(); }
  void end_line() {
    while (!line_.empty() && is_space(line_.back())) line_.pop_back();
    if (!line_.empty()) {
      if (!text_.empty()) text_ += '\n';
      text_ += line_;
    }
    line_.clear();
    pending_space_ = false;
  }
  void enter_pre() { ++preformatted_; }
  void leave_pre() { --preformatted_; }
  std::string finish() {
    end_line();
    return std::move(text_);
  }

 private:
  std::string text_;
  std::string line_;
  bool pending_space_ = false;
  int preformatted_ = 0;
};

bool is_skipped(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_HEAD:
    case GUMBO_TAG_SCRIPT:
    case GUMBO_TAG_STYLE:
    case GUMBO_TAG_NOSCRIPT:
    case GUMBO_TAG_TEMPLATE:
    case GUMBO_TAG_SVG:
    case GUMBO_TAG_MATH:
    case GUMBO_TAG_TITLE:  // shown once, first
    case GUMBO_TAG_IFRAME:
    case GUMBO_TAG_OBJECT:
      return true;
    default:
      return false;
  }
}

bool is_block(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_ADDRESS:
    case GUMBO_TAG_ARTICLE:
    case GUMBO_TAG_ASIDE:
    case GUMBO_TAG_BLOCKQUOTE:
    case GUMBO_TAG_BODY:
    case GUMBO_TAG_BR:
    case GUMBO_TAG_CAPTION:
    case GUMBO_TAG_DD:
    case GUMBO_TAG_DETAILS:
    case GUMBO_TAG_DIV:
    case GUMBO_TAG_DL:
    case GUMBO_TAG_DT:
    case GUMBO_TAG_FIELDSET:
    case GUMBO_TAG_FIGCAPTION:
    case GUMBO_TAG_FIGURE:
    case GUMBO_TAG_FOOTER:
    case GUMBO_TAG_FORM:
    case GUMBO_TAG_H1:
    case GUMBO_TAG_H2:
    case GUMBO_TAG_H3:
    case GUMBO_TAG_H4:
    case GUMBO_TAG_H5:
    case GUMBO_TAG_H6:
    case GUMBO_TAG_HEADER:
    case GUMBO_TAG_HR:
    case GUMBO_TAG_HTML:
    case GUMBO_TAG_LI:
    case GUMBO_TAG_MAIN:
    case GUMBO_TAG_NAV:
    case GUMBO_TAG_OL:
    case GUMBO_TAG_OPTION:
    case GUMBO_TAG_P:
    case GUMBO_TAG_PRE:
    case GUMBO_TAG_SECTION:
    case GUMBO_TAG_SUMMARY:
    case GUMBO_TAG_TABLE:
    case GUMBO_TAG_TBODY:
    case GUMBO_TAG_TFOOT:
    case GUMBO_TAG_THEAD:
    case GUMBO_TAG_TR:
    case GUMBO_TAG_UL:
      return true;
    default:
      return false;
  }
}

std::string attribute(const GumboElement& element, const char* name) {
  const GumboAttribute* a = gumbo_get_attribute(&element.attributes, name);
  return a != nullptr && a->value != nullptr ? a->value : "";
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  });
  return out;
}

struct url_deleter {
  void operator()(CURLU* h) const { curl_url_cleanup(h); }
};
struct curl_string_deleter {
  void operator()(char* s) const { curl_free(s); }
};

// `href` made absolute against `base`; empty when it is not an http(s) link worth listing.
std::string resolve_link(std::string_view base, std::string_view href) {
  while (!href.empty() && is_space(href.front())) href.remove_prefix(1);
  while (!href.empty() && is_space(href.back())) href.remove_suffix(1);
  if (href.empty() || href.front() == '#') return {};
  const std::string lowered = lower_ascii(href.substr(0, 16));
  for (std::string_view skipped : {"javascript:", "mailto:", "tel:", "data:"}) {
    if (lowered.rfind(skipped, 0) == 0) return {};
  }
  std::unique_ptr<CURLU, url_deleter> u(curl_url());
  if (!u) return {};
  const std::string base_text(base);
  const std::string href_text(href);
  constexpr unsigned k_flags = CURLU_NON_SUPPORT_SCHEME | CURLU_ALLOW_SPACE;
  if (curl_url_set(u.get(), CURLUPART_URL, base_text.c_str(), k_flags) != CURLUE_OK) return {};
  // Setting a URL on a handle that holds one resolves it relative to the old one.
  if (curl_url_set(u.get(), CURLUPART_URL, href_text.c_str(), k_flags) != CURLUE_OK) return {};
  char* raw = nullptr;
  if (curl_url_get(u.get(), CURLUPART_SCHEME, &raw, 0) != CURLUE_OK) return {};
  const std::string scheme = lower_ascii(std::unique_ptr<char, curl_string_deleter>(raw).get());
  if (scheme != "http" && scheme != "https") return {};
  raw = nullptr;
  if (curl_url_get(u.get(), CURLUPART_URL, &raw, 0) != CURLUE_OK) return {};
  return std::unique_ptr<char, curl_string_deleter>(raw).get();
}

// The text of an element's descendants, for <title>. Iterative, like everything walking
// the tree: a hostile page can nest elements tens of thousands deep.
std::string inner_text(const GumboNode* node) {
  std::string out;
  std::vector<const GumboNode*> stack{node};
  while (!stack.empty()) {
    const GumboNode* n = stack.back();
    stack.pop_back();
    if (n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_WHITESPACE ||
        n->type == GUMBO_NODE_CDATA) {
      out += n->v.text.text;
    } else if (n->type == GUMBO_NODE_ELEMENT) {
      const GumboVector& children = n->v.element.children;
      for (unsigned i = children.length; i > 0; --i) {
        stack.push_back(static_cast<const GumboNode*>(children.data[i - 1]));
      }
    }
  }
  return collapse(out);
}

// The first <title> and <base href> outside SVG and MathML.
void find_title_and_base(const GumboNode* root, std::string& title, std::string& base) {
  std::vector<const GumboNode*> stack{root};
  bool have_title = false;
  bool have_base = false;
  while (!stack.empty() && !(have_title && have_base)) {
    const GumboNode* n = stack.back();
    stack.pop_back();
    if (n->type != GUMBO_NODE_ELEMENT) continue;
    const GumboElement& e = n->v.element;
    if (e.tag_namespace != GUMBO_NAMESPACE_HTML) continue;
    if (e.tag == GUMBO_TAG_TITLE && !have_title) {
      title = inner_text(n);
      have_title = true;
      continue;
    }
    if (e.tag == GUMBO_TAG_BASE && !have_base) {
      base = attribute(e, "href");
      have_base = !base.empty();
    }
    for (unsigned i = e.children.length; i > 0; --i) {
      stack.push_back(static_cast<const GumboNode*>(e.children.data[i - 1]));
    }
  }
}

// gumbo cannot be interrupted, and its time grows with the square of the tree's depth
// (20,000 nested <div>s take 2 s, 80,000 take 40 s): a hostile page could hold a worker
// for many minutes. Guessing the depth before parsing means re-implementing HTML's tree
// construction, so the parse is bounded instead: gumbo allocates through these functions
// for every element and token, they look at the clock and the stop token, and when either
// says stop they jump back out of gumbo to parse_bounded(). Only C frames (gumbo's) and
// trivially destructible locals lie between, so nothing needing cleanup is skipped
// ([csetjmp.syn]); the blocks gumbo held are freed from the list kept here.
struct alignas(std::max_align_t) block_header {
  block_header* prev;
  block_header* next;
};

struct parse_budget {
  std::jmp_buf jump{};
  steady::time_point deadline;
  std::stop_token stop;
  std::uint32_t calls = 0;
  block_header live{&live, &live};  // every block gumbo holds, in a ring

  parse_budget(steady::time_point d, std::stop_token s) : deadline(d), stop(std::move(s)) {}
  ~parse_budget() {
    // After a jump, whatever gumbo held; after gumbo_destroy_output, nothing.
    while (live.next != &live) {
      block_header* b = live.next;
      live.next = b->next;
      std::free(b);
    }
  }
  parse_budget(const parse_budget&) = delete;
  parse_budget& operator=(const parse_budget&) = delete;
};

void* budget_allocate(void* user, std::size_t size) {
  auto* budget = static_cast<parse_budget*>(user);
  // The clock every 64 calls: cheap, and gumbo does at most one scan of its open elements
  // between two allocations.
  if ((++budget->calls & 63U) == 0 &&
      (steady::now() > budget->deadline || budget->stop.stop_requested())) {
    std::longjmp(budget->jump, 1);
  }
  auto* b = static_cast<block_header*>(std::malloc(sizeof(block_header) + size));
  if (b == nullptr) std::longjmp(budget->jump, 1);  // gumbo would dereference null
  b->prev = &budget->live;
  b->next = budget->live.next;
  budget->live.next->prev = b;
  budget->live.next = b;
  return b + 1;
}

void budget_free(void* /*user*/, void* ptr) {
  if (ptr == nullptr) return;
  block_header* b = static_cast<block_header*>(ptr) - 1;
  b->prev->next = b->next;
  b->next->prev = b->prev;
  std::free(b);
}

// Null when the budget ran out (or memory did). Nothing here may need a destructor.
GumboOutput* parse_bounded(parse_budget& budget, const GumboOptions& options,
                           std::string_view html) {
  if (setjmp(budget.jump) != 0) return nullptr;
  return gumbo_parse_with_options(&options, html.data(), html.size());
}

class web_page_tool final : public tool {
 public:
  explicit web_page_tool(const tools_config& config)
      : config_(config), policy_(address_policy::compile(config.http_allow)) {}

  [[nodiscard]] std::string_view name() const override { return "web_page"; }
  [[nodiscard]] std::string_view description() const override {
    return "Fetches a web page and returns its title, readable text and links. Private, "
           "loopback and link-local addresses are refused.";
  }
  [[nodiscard]] const nlohmann::json& parameters() const override { return schema_; }

  [[nodiscard]] result<tool_output> invoke(const nlohmann::json& args,
                                           const tool_context& ctx) override {
    const auto it = args.is_object() ? args.find("url") : args.end();
    if (!args.is_object() || it == args.end() || !it->is_string()) {
      return fail(errc::invalid_argument, "web_page needs a string \"url\"");
    }
    if (!policy_) return tl::unexpected(policy_.error());
    auto response = http_fetch(config_, *policy_, it->get_ref<const std::string&>(), ctx);
    if (!response) return tl::unexpected(response.error());

    const std::string type = lower_ascii(response->content_type);
    const bool html = type.find("html") != std::string::npos ||
                      (type.empty() && lower_ascii(response->body.substr(0, 512)).find("<html") !=
                                           std::string::npos);
    if (!html && !is_text_content(response->content_type, response->body)) {
      return fail(errc::invalid_argument, "web_page: " + response->final_url +
                                              " is not a text page (content type " +
                                              llm::safe_excerpt(response->content_type, 100) + ")");
    }
    tool_output out;
    if (!html) {
      out.text = "URL: " + response->final_url + "\n\n" + body_text(*response);
      return out;
    }
    html_limits limits;
    limits.stop = ctx.stop;
    auto parsed = html_to_text(body_text(*response), response->final_url, limits);
    if (!parsed) return tl::unexpected(parsed.error());
    const page_text& page = *parsed;
    out.text = page.title.empty() ? "(no title)" : page.title;
    out.text += "\nURL: " + response->final_url + "\n\n" + page.text;
    if (!page.links.empty()) {
      out.text += "\n\nLinks:";
      for (const auto& link : page.links) {
        out.text += "\n- ";
        if (!link.text.empty()) out.text += "[" + link.text + "](" + link.url + ")";
        if (link.text.empty()) out.text += link.url;
      }
    }
    return out;
  }

 private:
  tools_config config_;
  result<address_policy> policy_;
  nlohmann::json schema_ = nlohmann::json::parse(R"({
    "type": "object",
    "properties": {"url": {"type": "string", "maxLength": 2048}},
    "required": ["url"],
    "additionalProperties": false
  })");
};

}  // namespace

result<page_text> html_to_text(std::string_view html, std::string_view base_url,
                               const html_limits& limits) {
  parse_budget budget(steady::now() + limits.time, limits.stop);
  GumboOptions options = kGumboDefaultOptions;
  options.allocator = budget_allocate;
  options.deallocator = budget_free;
  options.userdata = &budget;
  options.max_errors = 0;  // we never read them; a broken page would otherwise fill memory
  GumboOutput* parsed = parse_bounded(budget, options, html);
  if (parsed == nullptr) {
    if (limits.stop.stop_requested()) return fail(errc::cancelled, "web_page: cancelled");
    return fail(errc::invalid_argument,
                "web_page: the page's HTML did not parse within " +
                    std::to_string(limits.time.count()) +
                    " ms (pathologically nested markup?); http_get returns it raw");
  }
  // Destroyed before `budget`, which its deallocations go through.
  const auto destroy = [&options](GumboOutput* o) { gumbo_destroy_output(&options, o); };
  std::unique_ptr<GumboOutput, decltype(destroy)> output(parsed, destroy);
  page_text page;

  std::string base_href;
  find_title_and_base(output->root, page.title, base_href);
  std::string base(base_url);
  if (!base_href.empty()) {
    if (auto resolved = resolve_link(base_url, base_href); !resolved.empty()) base = resolved;
  }

  text_builder text;
  std::set<std::string, std::less<>> seen;
  // The anchor being read: its text collects while the walk is inside it.
  std::optional<page_link> anchor;
  std::size_t anchor_depth = 0;

  struct frame {
    const GumboNode* node;
    unsigned next_child;
  };
  std::vector<frame> stack{{output->root, 0}};
  text.end_line();
  while (!stack.empty()) {
    frame& top = stack.back();
    const GumboElement& e = top.node->v.element;
    if (top.next_child < e.children.length) {
      const auto* child = static_cast<const GumboNode*>(e.children.data[top.next_child++]);
      if (child->type == GUMBO_NODE_TEXT || child->type == GUMBO_NODE_WHITESPACE ||
          child->type == GUMBO_NODE_CDATA) {
        text.add(child->v.text.text);
        if (anchor) anchor->text += child->v.text.text;
        continue;
      }
      if (child->type != GUMBO_NODE_ELEMENT) continue;  // comments, <template> content
      const GumboElement& ce = child->v.element;
      if (is_skipped(ce.tag)) continue;
      if (is_block(ce.tag)) text.end_line();
      if (ce.tag == GUMBO_TAG_LI) text.add("- ");
      if (ce.tag == GUMBO_TAG_TD || ce.tag == GUMBO_TAG_TH) text.space();
      if (ce.tag == GUMBO_TAG_PRE) text.enter_pre();
      if (ce.tag == GUMBO_TAG_IMG) {
        if (const std::string alt = attribute(ce, "alt"); !alt.empty()) text.add(alt);
      }
      if (ce.tag == GUMBO_TAG_A && !anchor) {
        anchor = page_link{{}, resolve_link(base, attribute(ce, "href"))};
        anchor_depth = stack.size() + 1;
      }
      stack.push_back({child, 0});
      continue;
    }
    // Leaving `top`.
    if (is_block(e.tag)) text.end_line();
    if (e.tag == GUMBO_TAG_PRE) text.leave_pre();
    if (anchor && stack.size() == anchor_depth) {
      if (!anchor->url.empty() && page.links.size() < k_web_page_max_links &&
          seen.insert(anchor->url).second) {
        anchor->text = llm::safe_excerpt(collapse(anchor->text), k_link_text_bytes);
        if (anchor->text.empty()) anchor->text = collapse(attribute(e, "title"));
        page.links.push_back(std::move(*anchor));
      }
      anchor.reset();
    }
    stack.pop_back();
  }
  page.text = text.finish();
  return page;
}

std::unique_ptr<tool> make_web_page_tool(const tools_config& config) {
  return std::make_unique<web_page_tool>(config);
}

}  // namespace grok::tools
