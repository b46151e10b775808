// remove_artifact_files: retention deletes artifact files inside the data directory and
// nothing else, however the URI tries to lead elsewhere.
#include "store/retention.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests_support/temp_dir.h"

namespace grok::store {
namespace {

namespace fs = std::filesystem;
using grok::testing::temp_dir;

void touch(const fs::path& p) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << "data";
}

TEST(retention_files, only_regular_files_inside_the_data_dir_are_removed) {
  temp_dir data;
  temp_dir elsewhere;
  const auto root = data.path();
  touch(root / "artifacts/a.bin");
  touch(root / "artifacts/with space.bin");
  touch(root / "artifacts/abs.bin");
  touch(root / "grok.db");
  touch(elsewhere.path() / "victim.txt");
  touch(elsewhere.path() / "dir/victim2.txt");
  fs::create_symlink(elsewhere.path() / "victim.txt", root / "artifacts/link.bin");
  fs::create_directory_symlink(elsewhere.path() / "dir", root / "artifacts/linkdir");
  fs::create_directories(root / "artifacts/subdir");

  const std::vector<std::string> uris = {
      "artifacts/a.bin",                                             // relative: removed
      "file://" + (root / "artifacts/with%20space.bin").string(),    // file URI: removed
      (root / "artifacts/abs.bin").string(),                         // absolute inside: removed
      (elsewhere.path() / "victim.txt").string(),                    // outside
      "../" + elsewhere.path().filename().string() + "/victim.txt",  // escapes by ..
      "artifacts/link.bin",                                          // a link to outside
      "artifacts/linkdir/victim2.txt",                               // through a linked directory
      "file://" + (elsewhere.path() / "victim.txt").string(),        // file URI outside
      "file://otherhost" + (root / "grok.db").string(),              // another host
      "https://example.com/artifacts/a.bin",                         // another scheme
      "grok.db",                                                     // protected
      "artifacts/subdir",                                            // a directory
      "artifacts/..",
      "",
      "artifacts/missing.bin",
  };
  const auto removed = remove_artifact_files(root, uris, {root / "grok.db"});
  EXPECT_EQ(removed, 3);
  EXPECT_FALSE(fs::exists(root / "artifacts/a.bin"));
  EXPECT_FALSE(fs::exists(root / "artifacts/with space.bin"));
  EXPECT_FALSE(fs::exists(root / "artifacts/abs.bin"));
  EXPECT_TRUE(fs::exists(elsewhere.path() / "victim.txt"));
  EXPECT_TRUE(fs::exists(elsewhere.path() / "dir/victim2.txt"));
  EXPECT_TRUE(fs::is_symlink(root / "artifacts/link.bin"));
  EXPECT_TRUE(fs::exists(root / "grok.db"));
  EXPECT_TRUE(fs::is_directory(root / "artifacts/subdir"));
}

TEST(retention_files, a_missing_data_dir_removes_nothing) {
  temp_dir dir;
  touch(dir.path() / "x.bin");
  EXPECT_EQ(remove_artifact_files(dir.path() / "nope", {(dir.path() / "x.bin").string()}), 0);
  EXPECT_TRUE(fs::exists(dir.path() / "x.bin"));
}

}  // namespace
}  // namespace grok::store
