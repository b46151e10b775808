// web_page: HTML to text on its own, and the tool against a loopback server (allow-listed).
#include "tools/web_page.h"

#include <gtest/gtest.h>

#include "unit/tools/loopback_http_server.h"

namespace grok::tools {
namespace {

using grok::testing::http_request_seen;
using grok::testing::http_response_text;
using grok::testing::loopback_http_server;

// html_to_text, which must succeed.
page_text read(std::string_view html, std::string_view base) {
  auto page = html_to_text(html, base);
  EXPECT_TRUE(page) << page.error().message;
  return page ? *page : page_text{};
}

const std::string k_page = R"html(<!doctype html>
<html>
<head>
  <title>  The   Test
   Page </title>
  <style>body { color: red; }</style>
  <script>var secret = "script text";</script>
</head>
<body>
  <nav><a href="/">Home</a> | <a href="about.html">About us</a></nav>
  <script>document.write("more script text")</script>
  <noscript>enable javascript</noscript>
  <h1>Main   heading</h1>
  <p>First paragraph with <b>bold</b> and <a href="../up/other.html?q=1#frag">a
     relative link</a>.</p>
  <p>Second&nbsp;paragraph.</p>
  <template><p>template text</p></template>
  <svg><text>svg text</text></svg>
  <ul><li>one</li><li>two</li></ul>
  <a href="javascript:alert(1)">js</a>
  <a href="mailto:someone@example.org">mail</a>
  <a href="#top">top</a>
  <a href="https://example.org/elsewhere">Elsewhere</a>
  <a href="about.html">About again</a>
  <pre>line 1
  line 2</pre>
</body>
</html>)html";

TEST(web_page, html_to_text_keeps_readable_text_only) {
  const page_text page = read(k_page, "http://127.0.0.1:8080/docs/index.html");
  EXPECT_EQ(page.title, "The Test Page");
  EXPECT_EQ(page.text,
            "Home | About us\n"
            "Main heading\n"
            "First paragraph with bold and a relative link.\n"
            "Second paragraph.\n"
            "- one\n"
            "- two\n"
            "js mail top Elsewhere About again\n"
            "line 1\n"
            "  line 2");
  for (const char* hidden : {"script text", "color: red", "enable javascript", "template text",
                             "svg text", "The Test Page"}) {
    EXPECT_EQ(page.text.find(hidden), std::string::npos) << hidden;
  }
}

TEST(web_page, html_to_text_resolves_links_and_skips_others) {
  const page_text page = read(k_page, "http://127.0.0.1:8080/docs/index.html");
  ASSERT_EQ(page.links.size(), 4U);
  EXPECT_EQ(page.links[0].url, "http://127.0.0.1:8080/");
  EXPECT_EQ(page.links[0].text, "Home");
  EXPECT_EQ(page.links[1].url, "http://127.0.0.1:8080/docs/about.html");
  EXPECT_EQ(page.links[1].text, "About us");
  EXPECT_EQ(page.links[2].url, "http://127.0.0.1:8080/up/other.html?q=1#frag");
  EXPECT_EQ(page.links[2].text, "a relative link");
  EXPECT_EQ(page.links[3].url, "https://example.org/elsewhere");
}

TEST(web_page, base_href_changes_where_links_point) {
  const page_text page = read(
      R"(<html><head><base href="https://docs.example/v2/"></head><body><a href="intro">Intro</a></body></html>)",
      "http://127.0.0.1/x");
  ASSERT_EQ(page.links.size(), 1U);
  EXPECT_EQ(page.links[0].url, "https://docs.example/v2/intro");
}

TEST(web_page, links_are_capped) {
  std::string html = "<body>";
  for (int i = 0; i < 80; ++i) html += "<a href=\"/p" + std::to_string(i) + "\">p</a>";
  const page_text page = read(html, "http://h/");
  EXPECT_EQ(page.links.size(), k_web_page_max_links);
  EXPECT_EQ(page.links.back().url, "http://h/p49");
}

TEST(web_page, hostile_markup_does_not_crash) {
  EXPECT_EQ(read("", "http://h/").text, "");
  EXPECT_EQ(read(std::string("\0\0<p>\xff\xfe", 8), "http://h/").links.size(), 0U);
  EXPECT_TRUE(read("<a href=\"http://[::1\">x</a><a href=\"\">y</a>", "not a url").links.empty());
  EXPECT_EQ(read("<p title=\"a>b\">text</p><!-- <div> -->", "http://h/").text, "text");
}

TEST(web_page, pathological_nesting_runs_out_of_time_instead_of_hanging) {
  // gumbo's time grows with the square of the depth: unbounded, this would take minutes.
  for (const std::string unit : {"<div>", "<b>", "<div/>", "<div></x>"}) {
    std::string deep = "<p>top</p>";
    for (int i = 0; i < 200'000; ++i) deep += unit;
    auto page = html_to_text(deep, "http://h/", {.time = std::chrono::milliseconds(200)});
    ASSERT_FALSE(page) << unit;
    EXPECT_EQ(page.error().code, errc::invalid_argument);
    EXPECT_NE(page.error().message.find("did not parse within 200 ms"), std::string::npos);
  }
}

TEST(web_page, a_stop_request_ends_the_parse) {
  std::string deep;
  for (int i = 0; i < 200'000; ++i) deep += "<div>";
  std::stop_source stop;
  stop.request_stop();
  auto page = html_to_text(deep, "http://h/", {.stop = stop.get_token()});
  ASSERT_FALSE(page);
  EXPECT_EQ(page.error().code, errc::cancelled);
}

TEST(web_page, large_ordinary_pages_parse) {
  std::string wide = "<body>";
  for (int i = 0; i < 5000; ++i) {
    wide += "<div><p>para<li>item<td>cell<br><img src=x><svg><path d='M0'/><path/></svg></div>";
  }
  for (int i = 0; i < 900; ++i) wide += "<div>";
  wide += "end";
  const page_text page = read(wide, "http://h/");
  EXPECT_NE(page.text.find("end"), std::string::npos);
}

TEST(web_page, tool_fetches_and_converts_a_page) {
  loopback_http_server server([](const http_request_seen& request) -> std::optional<std::string> {
    if (request.path == "/old") {
      return http_response_text(301, "text/html", "", "Location: /docs/index.html\r\n");
    }
    return http_response_text(200, "text/html; charset=utf-8", k_page);
  });
  tools_config config;
  config.http_allow = {"127.0.0.1:" + std::to_string(server.port())};
  auto web = make_web_page_tool(config);
  auto r = web->invoke({{"url", server.url("/old")}}, tool_context{});
  ASSERT_TRUE(r) << r.error().message;
  const std::string& text = r->text;
  EXPECT_EQ(text.rfind("The Test Page\nURL: " + server.url("/docs/index.html") + "\n\n", 0), 0U)
      << text;
  EXPECT_NE(text.find("First paragraph with bold and a relative link."), std::string::npos);
  EXPECT_EQ(text.find("script text"), std::string::npos);
  EXPECT_NE(text.find("\n\nLinks:\n- [Home](" + server.url("/") + ")\n- [About us](" +
                      server.url("/docs/about.html") + ")"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("javascript:"), std::string::npos);
  EXPECT_EQ(text.find("mailto:"), std::string::npos);
}

TEST(web_page, tool_refuses_what_http_get_refuses) {
  loopback_http_server server([](const http_request_seen&) -> std::optional<std::string> {
    return http_response_text(200, "text/html", "<p>x</p>");
  });
  auto r = make_web_page_tool(tools_config{})->invoke({{"url", server.url("/")}}, tool_context{});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::invalid_argument);
  EXPECT_EQ(r.error().message.rfind("refused: ", 0), 0U);
  server.sync();
  EXPECT_EQ(server.connections(), 0);
}

TEST(web_page, tool_returns_plain_text_as_is_and_refuses_binary) {
  loopback_http_server server([](const http_request_seen& request) -> std::optional<std::string> {
    if (request.path == "/text") return http_response_text(200, "text/plain", "just text");
    return http_response_text(200, "application/octet-stream", "\x01\x02");
  });
  tools_config config;
  config.http_allow = {"127.0.0.1:" + std::to_string(server.port())};
  auto web = make_web_page_tool(config);
  auto text = web->invoke({{"url", server.url("/text")}}, tool_context{});
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_EQ(text->text, "URL: " + server.url("/text") + "\n\njust text");
  auto binary = web->invoke({{"url", server.url("/bin")}}, tool_context{});
  ASSERT_FALSE(binary);
  EXPECT_EQ(binary.error().code, errc::invalid_argument);
}

}  // namespace
}  // namespace grok::tools
