// The output folder's safety: replace_dir writes all or nothing (a failure in the middle, as a
// full disk gives, leaves the old folder byte for byte, and no temporary folder behind), keeps
// the folder's other files, and PathLock refuses a second holder of a path.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>

#include "ptune/train/output_dir.h"
#include "test_util.h"

namespace ptune::train {
namespace {

namespace fs = std::filesystem;

class OutputDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(::testing::TempDir()) /
            ("ptune_out_" +
             std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(root_);
    fs::create_directories(root_);
    out_ = root_ / "out";
  }
  void TearDown() override { fs::remove_all(root_); }

  static void put(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }
  // Every file under `dir` (relative name -> content).
  static std::map<std::string, std::string> contents(const fs::path& dir) {
    std::map<std::string, std::string> m;
    for (const auto& e : fs::recursive_directory_iterator(dir))
      if (e.is_regular_file())
        m[fs::relative(e.path(), dir).string()] = test::read_file(e.path().string());
    return m;
  }
  // The names in root_ (the output and any sibling left behind).
  std::vector<std::string> siblings() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(root_)) names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  }
  // What a tune writes: the adapter, then the record.
  static void write_adapter(const std::string& dir, bool record_fails) {
    put(fs::path(dir) / "adapter_config.json", "new config");
    put(fs::path(dir) / "adapter_model.safetensors", "new tensors");
    if (record_fails) throw std::runtime_error("ptune_train.json: No space left on device");
    put(fs::path(dir) / "ptune_train.json", "new record");
  }
  void make_old_output() const {
    fs::create_directories(out_ / "sub");
    put(out_ / "adapter_config.json", "old config");
    put(out_ / "adapter_model.safetensors", "old tensors");
    put(out_ / "ptune_train.json", "old record");
    put(out_ / "ckpt.safetensors", "checkpoint");
    put(out_ / "sub" / "notes.txt", "the user's");
  }

  fs::path root_, out_;
};

TEST_F(OutputDirTest, AFailureInTheMiddleLeavesTheOldFolderAsItWas) {
  make_old_output();
  const auto before = contents(out_);
  try {
    replace_dir(out_.string(), [](const std::string& tmp) { write_adapter(tmp, true); });
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("No space left"), std::string::npos) << msg;
    EXPECT_NE(msg.find("is unchanged"), std::string::npos) << msg;
  }
  EXPECT_EQ(contents(out_), before);
  EXPECT_EQ(siblings(), std::vector<std::string>{"out"});  // no temporary folder left
}

TEST_F(OutputDirTest, ReplacesTheOutputAndKeepsTheOtherFiles) {
  make_old_output();
  const fs::perms mode = fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec;
  fs::permissions(out_, mode);
  replace_dir(out_.string(), [](const std::string& tmp) { write_adapter(tmp, false); });
  EXPECT_EQ(fs::status(out_).permissions(), mode);  // the folder's, not a temporary folder's
  const std::map<std::string, std::string> want = {{"adapter_config.json", "new config"},
                                                   {"adapter_model.safetensors", "new tensors"},
                                                   {"ptune_train.json", "new record"},
                                                   {"ckpt.safetensors", "checkpoint"},
                                                   {"sub/notes.txt", "the user's"}};
  EXPECT_EQ(contents(out_), want);
  EXPECT_EQ(siblings(), std::vector<std::string>{"out"});
}

TEST_F(OutputDirTest, CreatesAMissingFolderAndFollowsALink) {
  const fs::path nested = root_ / "a" / "b";
  replace_dir(nested.string() + "/", [](const std::string& tmp) { write_adapter(tmp, false); });
  EXPECT_EQ(test::read_file((nested / "ptune_train.json").string()), "new record");
  // A link stays a link: its target is replaced.
  fs::create_directory_symlink(nested, root_ / "link");
  replace_dir((root_ / "link").string(), [](const std::string& tmp) {
    std::ofstream(fs::path(tmp) / "ptune_train.json") << "via link";
  });
  EXPECT_TRUE(fs::is_symlink(root_ / "link"));
  EXPECT_EQ(test::read_file((nested / "ptune_train.json").string()), "via link");
  EXPECT_EQ(test::read_file((nested / "adapter_config.json").string()), "new config");  // kept
}

TEST_F(OutputDirTest, TheCurrentFolderStaysUsable) {
  make_old_output();
  const fs::path cwd = fs::current_path();
  fs::current_path(out_);
  replace_dir(".", [](const std::string& tmp) { write_adapter(tmp, false); });
  // The process now stands in the new folder, not in the removed old one.
  const std::string here = test::read_file("ptune_train.json");
  const std::string kept = test::read_file("ckpt.safetensors");
  fs::current_path(cwd);
  EXPECT_EQ(here, "new record");
  EXPECT_EQ(kept, "checkpoint");
  EXPECT_EQ(siblings(), std::vector<std::string>{"out"});
}

TEST_F(OutputDirTest, RefusesAFileWhereTheFolderShouldBe) {
  put(out_, "a file");
  EXPECT_THROW(replace_dir(out_.string(), [](const std::string&) {}), std::runtime_error);
  EXPECT_EQ(test::read_file(out_.string()), "a file");
}

TEST_F(OutputDirTest, ASecondLockOnThePathIsRefusedUntilTheFirstIsReleased) {
  {
    PathLock first(out_.string());
    EXPECT_TRUE(fs::exists(root_ / "out.lock"));
    try {
      PathLock second(out_.string() + "/");  // the same path, spelled otherwise
      FAIL() << "expected an error";
    } catch (const std::runtime_error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("another ptune (pid " + std::to_string(getpid()) + ")"), std::string::npos)
          << msg;
      EXPECT_NE(msg.find(out_.string()), std::string::npos) << msg;
    }
  }
  EXPECT_FALSE(fs::exists(root_ / "out.lock"));  // removed on release
  PathLock again(out_.string());
  // A missing folder is made; a lock file that cannot be created is an error naming it.
  PathLock nested((root_ / "a" / "b").string());
  EXPECT_TRUE(fs::exists(root_ / "a" / "b.lock"));
  put(root_ / "file", "");
  try {
    PathLock bad((root_ / "file" / "x").string());
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot create the lock file " +
                                         (root_ / "file" / "x.lock").string()),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace ptune::train
