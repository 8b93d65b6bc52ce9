// Several targets: the targets file, its limits, and the order connections
// take the targets in.
#include "app/target_list.hh"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace horde::app {
namespace {

TEST(TargetList, ReadsUrlsWeightsAndComments) {
  auto listed = parse_targets_text(
      "# the cluster\nws://10.0.0.1:8080/ 3\n\n  ws://10.0.0.2:8080/chat   # default weight\n"
      "wss://n3.example:443/ 1\r\n",
      "t.txt");
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->size(), 3u);
  EXPECT_EQ((*listed)[0].url, "ws://10.0.0.1:8080/");
  EXPECT_EQ((*listed)[0].weight, 3u);
  EXPECT_EQ((*listed)[1].url, "ws://10.0.0.2:8080/chat");
  EXPECT_EQ((*listed)[1].weight, 1u);
  EXPECT_EQ((*listed)[2].url, "wss://n3.example:443/");
}

TEST(TargetList, RefusesBadWeightsNamingTheLine) {
  for (const char* bad : {"ws://a/ 0", "ws://a/ -2", "ws://a/ 1001", "ws://a/ 2x", "ws://a/ 1 2"}) {
    auto listed = parse_targets_text(std::string("ws://ok/\n") + bad + "\n", "t.txt");
    ASSERT_FALSE(listed) << bad;
    EXPECT_NE(listed.error().message.find("t.txt:2"), std::string::npos) << listed.error().message;
  }
}

TEST(TargetList, KeepsItsLimits) {
  std::string many;
  for (int i = 0; i < 257; ++i)
    many += "ws://10.0.0.1:" + std::to_string(1000 + i) + "/\n";
  EXPECT_FALSE(parse_targets_text(many, "t"));
  EXPECT_FALSE(parse_targets_text("ws://a/" + std::string(5000, 'x') + "\n", "t"));
  EXPECT_FALSE(parse_targets_text(std::string((1u << 20) + 1, '#'), "t"));
  auto none = parse_targets_text("# nothing\n\n", "t");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  EXPECT_FALSE(collect_targets({}, testing::TempDir() + "/no-such-targets-file"));
}

TEST(TargetList, RoundRobinTakesEachTargetInTurn) {
  const std::vector<weighted_url> t = {{"a", 1}, {"b", 1}, {"c", 1}};
  EXPECT_EQ(target_cycle(t, false), (std::vector<uint8_t>{0, 1, 2}));
}

TEST(TargetList, WeightsInterleaveInProportion) {
  EXPECT_EQ(target_cycle({{"a", 3}, {"b", 1}}, true), (std::vector<uint8_t>{0, 0, 1, 0}));
  const auto cycle = target_cycle({{"a", 5}, {"b", 3}, {"c", 2}}, true);
  ASSERT_EQ(cycle.size(), 10u);
  int counts[3] = {};
  for (uint8_t t : cycle)
    ++counts[t];
  EXPECT_EQ(counts[0], 5);
  EXPECT_EQ(counts[1], 3);
  EXPECT_EQ(counts[2], 2);
  // Smooth: the heaviest target never comes more than twice in a row here.
  for (size_t i = 2; i < cycle.size(); ++i)
    EXPECT_FALSE(cycle[i] == 0 && cycle[i - 1] == 0 && cycle[i - 2] == 0);
}

}  // namespace
}  // namespace horde::app
