#include "app/result_file.hh"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace horde::app {
namespace {

std::string scratch(const std::string& name) {
  return testing::TempDir() + "/horde_result_file_" + std::to_string(getpid()) + "_" + name;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ResultFile, WritesWholeAndLeavesNoTemporary) {
  const std::string path = scratch("ok.json");
  ASSERT_TRUE(write_whole(path, "{\"a\": 1}\n"));
  EXPECT_EQ(read_all(path), "{\"a\": 1}\n");
  EXPECT_NE(access((path + ".tmp." + std::to_string(getpid())).c_str(), F_OK), 0);
  // A second write replaces the first whole.
  ASSERT_TRUE(write_whole(path, "{}\n"));
  EXPECT_EQ(read_all(path), "{}\n");
  unlink(path.c_str());
}

TEST(ResultFile, AnUnwritablePlaceIsFoundBeforeTheRun) {
  auto checked = check_writable("/nonexistent-dir-for-horde/result.json");
  ASSERT_FALSE(checked);
  EXPECT_NE(checked.error().message.find("/nonexistent-dir-for-horde/"), std::string::npos);
  EXPECT_NE(checked.error().message.find("No such file"), std::string::npos);
  EXPECT_TRUE(check_writable(scratch("fine.json")));
}

}  // namespace
}  // namespace horde::app
