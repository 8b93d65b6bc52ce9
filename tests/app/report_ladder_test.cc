#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "app/html_report_charts.hh"
#include "app/report_command.hh"

namespace horde::app {
namespace {

// `horde report ladder.json`: the page of the last level's run, with the
// ladder's levels (without their nested runs) and its knee in the chart.
TEST(ReportLadder, ALadderResultIsReportedWithItsKnee) {
  const std::string path = testing::TempDir() + "/ladder_report_test.json";
  {
    std::ofstream out(path);
    out << R"({"schema":"horde.ladder/1","last_held_level":2,"broke_at_level":3,
      "levels":[
        {"level":1,"round_trip_p99_ns":1000000,"run":{"schema":"horde.run/1","target":"a"}},
        {"level":2,"round_trip_p99_ns":2000000,"run":{"schema":"horde.run/1","target":"b"}},
        {"level":3,"round_trip_p99_ns":900000000,"run":{"schema":"horde.run/1","target":"c"}}]})";
  }
  auto page = read_result_file(path);
  std::remove(path.c_str());
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_EQ((*page)["target"], "c");
  ASSERT_EQ((*page)["ladder"]["levels"].size(), 3u);
  EXPECT_FALSE((*page)["ladder"]["levels"][0].contains("run"));
  const auto charts = ladder_charts((*page)["ladder"]);
  ASSERT_EQ(charts.size(), 1u);
  EXPECT_NE(charts[0].title.find("broke at level 3"), std::string::npos) << charts[0].title;
}

}  // namespace
}  // namespace horde::app
