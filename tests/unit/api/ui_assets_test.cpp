// api::ui_assets: content types, ETags, the table built from a generated list, and the
// directory loader behind GROK_UI_DIR (limits, symlinks, hidden files, FIFOs, errors).
#include "api/ui_assets.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/sha256.h"
#include "tests_support/gunzip.h"
#include "tests_support/temp_dir.h"

namespace grok::testing {
namespace {

namespace fs = std::filesystem;
using api::ui_assets;
using grok::testing::gunzip;

void write_file(const fs::path& p, const std::string& bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out << bytes;
}

// A minimal built UI: index.html, a hashed bundle, a binary file.
void write_dist(const fs::path& dir) {
  write_file(dir / "index.html", "<!doctype html><title>x</title>");
  write_file(dir / "assets" / "index-AbC123.js", "console.log(1);\n");
  write_file(dir / "img" / "logo.png", std::string("\x89PNG\r\n\x1a\n\0\0\0", 11));
}

TEST(ui_content_type, by_extension_with_charset_for_text) {
  struct case_t {
    const char* path;
    const char* type;
  };
  for (const auto& c : {
           case_t{"index.html", "text/html; charset=utf-8"},
           case_t{"assets/index-x.js", "text/javascript; charset=utf-8"},
           case_t{"a/b.mjs", "text/javascript; charset=utf-8"},
           case_t{"assets/index-x.css", "text/css; charset=utf-8"},
           case_t{"favicon.svg", "image/svg+xml; charset=utf-8"},
           case_t{"manifest.json", "application/json; charset=utf-8"},
           case_t{"assets/index-x.js.map", "application/json; charset=utf-8"},
           case_t{"robots.txt", "text/plain; charset=utf-8"},
           case_t{"a.png", "image/png"},
           case_t{"a.jpg", "image/jpeg"},
           case_t{"a.JPEG", "image/jpeg"},
           case_t{"a.webp", "image/webp"},
           case_t{"favicon.ico", "image/x-icon"},
           case_t{"f.woff", "font/woff"},
           case_t{"f.woff2", "font/woff2"},
           case_t{"m.wasm", "application/wasm"},
           case_t{"INDEX.HTML", "text/html; charset=utf-8"},
           case_t{"data.bin", "application/octet-stream"},
           case_t{"README", "application/octet-stream"},
           case_t{"dir.js/file", "application/octet-stream"},
           case_t{"archive.tar.gz", "application/octet-stream"},
       }) {
    EXPECT_EQ(api::ui_content_type(c.path), c.type) << c.path;
  }
}

TEST(ui_path, valid_and_invalid_names) {
  for (const char* ok :
       {"index.html", "assets/index-abc.js", "a/b/c.txt", "with space.txt", "ünïcode.svg"}) {
    EXPECT_TRUE(api::valid_ui_path(ok)) << ok;
  }
  for (const std::string& bad :
       {std::string(), std::string("/index.html"), std::string("a//b"), std::string("a/"),
        std::string("../x"), std::string("a/../b"), std::string("./a"), std::string(".env"),
        std::string("a/.git/config"), std::string("a\\b"), std::string("a\nb"),
        std::string("a\0b", 3), std::string("a\x7f"), std::string(1025, 'a')}) {
    EXPECT_FALSE(api::valid_ui_path(bad)) << bad;
  }
}

TEST(ui_assets_embedded, builds_a_sorted_table_with_etags_types_and_cache_class) {
  const std::string js = "export default 1;\n";
  const std::string gz = "not really gzip";
  const auto js_hash = sha256_hex(js);
  const api::embedded_ui_file files[] = {
      {"index.html", "<html></html>", {}, ""},  // no hash given: computed
      {"assets/app-1.js", js, gz, js_hash},
  };
  auto t = ui_assets::from_embedded(files);
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->source(), "embedded");
  ASSERT_EQ(t->files().size(), 2u);
  EXPECT_EQ(t->files()[0].path, "assets/app-1.js");  // sorted
  EXPECT_EQ(t->total_bytes(), js.size() + 13);

  const auto* a = t->find("assets/app-1.js");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->bytes, js);
  EXPECT_EQ(a->gzip, gz);
  EXPECT_EQ(a->content_type, "text/javascript; charset=utf-8");
  EXPECT_TRUE(a->immutable);
  EXPECT_EQ(a->etag, "\"" + js_hash.substr(0, 32) + "\"");
  EXPECT_EQ(a->etag_gzip, "\"" + js_hash.substr(0, 32) + "-gz\"");

  const auto* i = t->find("index.html");
  ASSERT_NE(i, nullptr);
  EXPECT_FALSE(i->immutable);
  EXPECT_EQ(i->etag, "\"" + sha256_hex("<html></html>").substr(0, 32) + "\"");

  EXPECT_EQ(t->find("missing.js"), nullptr);
  EXPECT_EQ(t->find(""), nullptr);
  EXPECT_EQ(t->find("/index.html"), nullptr);
}

TEST(ui_assets_embedded, different_bytes_give_different_etags) {
  const api::embedded_ui_file one[] = {{"index.html", "a", {}, {}}};
  const api::embedded_ui_file two[] = {{"index.html", "b", {}, {}}};
  EXPECT_NE(ui_assets::from_embedded(one)->files()[0].etag,
            ui_assets::from_embedded(two)->files()[0].etag);
}

TEST(ui_assets_embedded, rejects_duplicates_and_unusable_names) {
  const api::embedded_ui_file dup[] = {{"a.js", "1", {}, {}}, {"a.js", "2", {}, {}}};
  EXPECT_FALSE(ui_assets::from_embedded(dup));
  const api::embedded_ui_file escape[] = {{"../etc/passwd", "1", {}, {}}};
  EXPECT_FALSE(ui_assets::from_embedded(escape));
  EXPECT_TRUE(ui_assets::from_embedded({})->empty());
}

TEST(ui_assets_dir, reads_every_file_with_types_and_etags) {
  temp_dir dir;
  write_dist(dir.path());
  auto t = ui_assets::load_dir(dir.path());
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->source(), fs::canonical(dir.path()).string());
  ASSERT_EQ(t->files().size(), 3u);
  const auto* png = t->find("img/logo.png");
  ASSERT_NE(png, nullptr);
  EXPECT_EQ(png->bytes, std::string("\x89PNG\r\n\x1a\n\0\0\0", 11));
  EXPECT_EQ(png->content_type, "image/png");
  EXPECT_TRUE(png->gzip.empty());
  EXPECT_FALSE(png->immutable);
  EXPECT_EQ(png->etag, "\"" + sha256_hex(png->bytes).substr(0, 32) + "\"");
  const auto* js = t->find("assets/index-AbC123.js");
  ASSERT_NE(js, nullptr);
  EXPECT_TRUE(js->immutable);
  EXPECT_EQ(js->bytes, "console.log(1);\n");
  EXPECT_EQ(t->total_bytes(), 11u + 16u + 31u);
}

TEST(ui_assets_dir, text_files_get_a_gzip_variant_when_it_pays_off) {
  temp_dir dir;
  write_dist(dir.path());
  std::string bundle;
  for (int i = 0; i < 300; ++i) bundle += "export const value" + std::to_string(i) + " = 1;\n";
  write_file(dir.path() / "assets" / "big-1.js", bundle);
  write_file(dir.path() / "assets" / "big-1.bin", bundle);  // not a text type
  auto t = ui_assets::load_dir(dir.path());
  ASSERT_TRUE(t) << t.error().message;
  const auto* js = t->find("assets/big-1.js");
  ASSERT_NE(js, nullptr);
  ASSERT_FALSE(js->gzip.empty());
  EXPECT_LT(js->gzip.size(), bundle.size() / 3);
  EXPECT_EQ(gunzip(js->gzip), bundle);
  EXPECT_TRUE(t->find("assets/big-1.bin")->gzip.empty());
  EXPECT_TRUE(t->find("index.html")->gzip.empty());  // 31 bytes: gzip would be larger
}

TEST(ui_assets_dir, copies_share_the_bytes_and_outlive_the_original) {
  temp_dir dir;
  write_dist(dir.path());
  std::string_view seen;
  ui_assets copy;
  {
    auto t = ui_assets::load_dir(dir.path());
    ASSERT_TRUE(t);
    copy = *t;
    seen = t->find("index.html")->bytes;
  }
  EXPECT_EQ(copy.find("index.html")->bytes.data(), seen.data());
  EXPECT_EQ(copy.find("index.html")->bytes, "<!doctype html><title>x</title>");
}

TEST(ui_assets_dir, skips_hidden_files_and_directories) {
  temp_dir dir;
  write_dist(dir.path());
  write_file(dir.path() / ".env", "SECRET=1");
  write_file(dir.path() / ".git" / "config", "[core]");
  write_file(dir.path() / "assets" / ".DS_Store", "x");
  auto t = ui_assets::load_dir(dir.path());
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->files().size(), 3u);
  EXPECT_EQ(t->find(".env"), nullptr);
}

TEST(ui_assets_dir, missing_dir_not_a_dir_and_no_index_are_clear_errors) {
  temp_dir dir;
  auto missing = ui_assets::load_dir(dir.path() / "nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, errc::not_found);
  EXPECT_NE(missing.error().message.find("does not exist"), std::string::npos);

  write_file(dir.path() / "file", "x");
  auto file = ui_assets::load_dir(dir.path() / "file");
  ASSERT_FALSE(file);
  EXPECT_NE(file.error().message.find("not a directory"), std::string::npos);

  write_file(dir.path() / "src" / "main.tsx", "x");
  auto no_index = ui_assets::load_dir(dir.path() / "src");
  ASSERT_FALSE(no_index);
  EXPECT_NE(no_index.error().message.find("no index.html"), std::string::npos);
}

TEST(ui_assets_dir, limits_on_files_and_bytes) {
  temp_dir dir;
  write_dist(dir.path());
  for (int i = 0; i < 10; ++i) write_file(dir.path() / ("f" + std::to_string(i) + ".txt"), "12345");
  // 13 files, 58 + 50 bytes.
  EXPECT_TRUE(ui_assets::load_dir(dir.path(), {.max_files = 13}));
  auto many = ui_assets::load_dir(dir.path(), {.max_files = 12});
  ASSERT_FALSE(many);
  EXPECT_NE(many.error().message.find("more than 12 files"), std::string::npos)
      << many.error().message;

  EXPECT_TRUE(ui_assets::load_dir(dir.path(), {.max_total_bytes = 108}));
  auto big = ui_assets::load_dir(dir.path(), {.max_total_bytes = 107});
  ASSERT_FALSE(big);
  EXPECT_NE(big.error().message.find("more than 107 bytes"), std::string::npos)
      << big.error().message;

  write_file(dir.path() / std::string(40, 'n'), "x");
  auto long_name = ui_assets::load_dir(dir.path(), {.max_path_bytes = 39});
  ASSERT_FALSE(long_name);
  EXPECT_NE(long_name.error().message.find("unusable file name"), std::string::npos);
}

TEST(ui_assets_dir, a_symlink_out_of_the_dir_is_refused) {
  temp_dir outside;
  write_file(outside.path() / "secret.txt", "top secret");
  temp_dir dir;
  write_dist(dir.path());
  fs::create_symlink(outside.path() / "secret.txt", dir.path() / "assets" / "leak.txt");
  auto t = ui_assets::load_dir(dir.path());
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message.find("leak.txt is a symlink that leaves the UI directory"),
            std::string::npos)
      << t.error().message;

  // A relative link that climbs out is refused the same way.
  fs::remove(dir.path() / "assets" / "leak.txt");
  fs::create_symlink("../../" + outside.path().filename().string() + "/secret.txt",
                     dir.path() / "assets" / "leak.txt");
  EXPECT_FALSE(ui_assets::load_dir(dir.path()));
}

TEST(ui_assets_dir, a_directory_symlink_out_of_the_dir_is_refused_and_never_read) {
  temp_dir outside;
  write_file(outside.path() / "secret.txt", "top secret");
  temp_dir dir;
  write_dist(dir.path());
  fs::create_directory_symlink(outside.path(), dir.path() / "etc");
  auto t = ui_assets::load_dir(dir.path());
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message.find("leaves the UI directory"), std::string::npos);
}

TEST(ui_assets_dir, symlinks_inside_the_dir_are_served_under_their_own_name) {
  temp_dir dir;
  write_dist(dir.path());
  fs::create_symlink("index.html", dir.path() / "app.html");
  fs::create_directory_symlink("assets", dir.path() / "static");  // not followed
  auto t = ui_assets::load_dir(dir.path());
  ASSERT_TRUE(t) << t.error().message;
  ASSERT_NE(t->find("app.html"), nullptr);
  EXPECT_EQ(t->find("app.html")->bytes, t->find("index.html")->bytes);
  EXPECT_EQ(t->find("static/index-AbC123.js"), nullptr);
  EXPECT_EQ(t->files().size(), 4u);
}

TEST(ui_assets_dir, broken_symlinks_and_fifos_are_errors_without_blocking) {
  temp_dir dir;
  write_dist(dir.path());
  fs::create_symlink("nowhere.js", dir.path() / "broken.js");
  auto broken = ui_assets::load_dir(dir.path());
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().message.find("broken symlink"), std::string::npos);
  fs::remove(dir.path() / "broken.js");

  ASSERT_EQ(::mkfifo((dir.path() / "pipe.js").c_str(), 0600), 0);
  auto fifo = ui_assets::load_dir(dir.path());
  ASSERT_FALSE(fifo);
  EXPECT_NE(fifo.error().message.find("pipe.js is not a regular file"), std::string::npos)
      << fifo.error().message;
}

TEST(ui_assets_dir, an_unreadable_file_is_an_io_error) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads every file";
  temp_dir dir;
  write_dist(dir.path());
  fs::permissions(dir.path() / "img" / "logo.png", fs::perms::none);
  auto t = ui_assets::load_dir(dir.path());
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, errc::io);
}

}  // namespace
}  // namespace grok::testing
