#include "app/units.hh"

#include <gtest/gtest.h>

namespace horde::app {
namespace {

TEST(Units, DurationsInEveryUnit) {
  EXPECT_EQ(*parse_duration_ns("30s"), 30'000'000'000ull);
  EXPECT_EQ(*parse_duration_ns("500ms"), 500'000'000ull);
  EXPECT_EQ(*parse_duration_ns("2m"), 120'000'000'000ull);
  EXPECT_EQ(*parse_duration_ns("1h"), 3'600'000'000'000ull);
  EXPECT_EQ(*parse_duration_ns("1.5s"), 1'500'000'000ull);
  EXPECT_EQ(*parse_duration_ns("7"), 7'000'000'000ull);  // bare number: seconds
  EXPECT_EQ(*parse_duration_ns("250us"), 250'000ull);
}

TEST(Units, BadDurationsSayWhatIsExpected) {
  for (const char* bad : {"", "s", "10x", "-1s", "abc", "1e999s"}) {
    auto parsed = parse_duration_ns(bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_NE(parsed.error().message.find("duration"), std::string::npos) << bad;
  }
}

TEST(Units, Rates) {
  EXPECT_DOUBLE_EQ(*parse_rate_per_second("10/s"), 10.0);
  EXPECT_DOUBLE_EQ(*parse_rate_per_second("120/m"), 2.0);
  EXPECT_DOUBLE_EQ(*parse_rate_per_second("0.5"), 0.5);
  EXPECT_DOUBLE_EQ(*parse_rate_per_second("3/ms"), 3000.0);
  EXPECT_FALSE(parse_rate_per_second("10/d"));
  EXPECT_FALSE(parse_rate_per_second("x/s"));
  EXPECT_DOUBLE_EQ(*parse_rate_per_second("10k/s"), 10000.0);  // as --help shows: 20k/s
}

TEST(Units, ByteSizesAreBinary) {
  EXPECT_EQ(*parse_bytes("64"), 64u);
  EXPECT_EQ(*parse_bytes("4KiB"), 4096u);
  EXPECT_EQ(*parse_bytes("1MiB"), 1048576u);
  EXPECT_EQ(*parse_bytes("1k"), 1024u);
  EXPECT_FALSE(parse_bytes("1TB"));
}

TEST(Units, CountsWithSuffixes) {
  EXPECT_EQ(*parse_count("100k"), 100'000u);
  EXPECT_EQ(*parse_count("3M"), 3'000'000u);
  EXPECT_EQ(*parse_count("42"), 42u);
  EXPECT_FALSE(parse_count("12q"));
}

TEST(Units, Ipv4RangesExpandInOrder) {
  auto addresses = parse_ipv4_ranges("127.0.0.1-127.0.0.3,10.0.0.9");
  ASSERT_TRUE(addresses);
  EXPECT_EQ(*addresses,
            (std::vector<std::string>{"127.0.0.1", "127.0.0.2", "127.0.0.3", "10.0.0.9"}));
  auto crossing = parse_ipv4_ranges("127.0.0.255-127.0.1.0");
  ASSERT_TRUE(crossing);
  EXPECT_EQ(crossing->size(), 2u);
  EXPECT_FALSE(parse_ipv4_ranges("127.0.0.5-127.0.0.1"));
  EXPECT_FALSE(parse_ipv4_ranges("300.0.0.1"));
  EXPECT_FALSE(parse_ipv4_ranges("::1"));
}

TEST(Units, RatesTakeCountSuffixes) {
  EXPECT_EQ(*parse_rate_per_second("20k/s"), 20000.0);
  EXPECT_EQ(*parse_rate_per_second("1.5M/m"), 25000.0);
  EXPECT_EQ(*parse_rate_per_second("100k"), 100000.0);
  EXPECT_FALSE(parse_rate_per_second("10x/s"));
}

}  // namespace
}  // namespace horde::app
