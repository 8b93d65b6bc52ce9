#include "app/series_csv.hh"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

namespace horde::app {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

TEST(SeriesCsv, EmptySeriesIsTheHeaderAlone) {
  EXPECT_EQ(series_csv({}), std::string(series_csv_header) + "\n");
}

TEST(SeriesCsv, OneRowPerSecondWithRatesOverEachInterval) {
  std::vector<series_point> series(2);
  auto& a = series[0];
  a.t = 1.0;
  a.interval_seconds = 1.0;
  a.open = 100;
  a.upgraded = 100;
  a.failures = 2;
  a.sent = 1000;
  a.received = 990;
  a.round_trip = {990, 1'500'000, 2'000'000, 3'000'000, 4'250'000};
  auto& b = series[1];
  b.t = 2.5;
  b.interval_seconds = 1.5;
  b.open = 100;
  b.upgraded = 100;
  b.failures = 5;
  b.sent = 2500;
  b.received = 2490;
  b.expected = 30;
  b.delivered = 27;
  const auto lines = lines_of(series_csv(series));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], series_csv_header);
  EXPECT_EQ(lines[1], "1.000,100,100.0,2.0,1000.0,990.0,1.500,2.000,3.000,4.250,0.0,0,2");
  // No round trips in the second interval: empty cells, not 0 ms.
  EXPECT_EQ(lines[2], "2.500,100,0.0,2.0,1000.0,1000.0,,,,,18.0,3,5");
  // Every row has as many columns as the header.
  for (const auto& line : lines)
    EXPECT_EQ(std::count(line.begin(), line.end(), ','), 12) << line;
}

}  // namespace
}  // namespace horde::app
