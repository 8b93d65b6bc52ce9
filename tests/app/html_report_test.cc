#include "app/html_report.hh"

#include <gtest/gtest.h>

#include "app/html_page.hh"
#include "core/histogram.hh"

namespace horde::app {
namespace {

size_t occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

nlohmann::json histogram_json(uint64_t value, uint64_t count) {
  const uint32_t index = core::histogram::index_of(value);
  return {{"count", count}, {"max_ns", value}, {"buckets", {{index, count}}}};
}

nlohmann::json small_result() {
  nlohmann::json series = nlohmann::json::array();
  for (int i = 1; i <= 3; ++i)
    series.push_back({{"t", double(i)},
                      {"open", 10},
                      {"opened", 10},
                      {"sent", 100 * i},
                      {"received", 100 * i},
                      {"interval",
                       {{"seconds", 1.0},
                        {"round_trip",
                         {{"count", 100},
                          {"p50_ns", 1000},
                          {"p95_ns", 2000},
                          {"p99_ns", 3000},
                          {"max_ns", 4000}}}}}});
  return {{"schema", "horde.run/1"},
          {"target", "ws://127.0.0.1:9/</script><script>alert(1)</script>"},
          {"notes", {"setup https://example.com/groups"}},
          {"plan", {{"connections", 10}}},
          {"connections",
           {{"opened", 10},
            {"failed", 2},
            {"failures", {{"connect_error", 2}, {"pong_timeout", 0}}},
            {"failure_meanings", {{"connect_error", "connect() failed"}}}}},
          {"latency",
           {{"round_trip", histogram_json(250'000, 300)}, {"connect", histogram_json(0, 0)}}},
          {"scenario", {{"latency", {{"login", histogram_json(5'000'000, 10)}}}}},
          {"thresholds", {{{"expr", "rtt.p99<50ms"}, {"value", 0.25}, {"passed", true}}}},
          {"verdict", {{"outcome", "passed"}, {"exit_code", 0}}},
          {"series", series}};
}

TEST(HtmlPage, EscapesTextSoNothingReadsAsMarkupOrALink) {
  EXPECT_EQ(html_escape("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;&#47;a&gt;");
  EXPECT_EQ(html_escape("https://x"), "https:&#47;&#47;x");
}

TEST(HtmlReport, SelfContainedWithNoLinkAndNoEscapeFromItsScripts) {
  const std::string page = html_report(small_result());
  EXPECT_EQ(page.find("http://"), std::string::npos);
  EXPECT_EQ(page.find("https://"), std::string::npos);
  EXPECT_EQ(page.find("<script>alert"), std::string::npos);
  EXPECT_EQ(page.find(" src="), std::string::npos);
  EXPECT_EQ(page.find("<link"), std::string::npos);
  EXPECT_NE(page.find("connect_error"), std::string::npos);
  EXPECT_EQ(page.find("pong_timeout"), std::string::npos);  // a reason with 0 is left out
  EXPECT_NE(page.find("rtt.p99&lt;50ms"), std::string::npos);
  EXPECT_NE(page.find("scenario: login"), std::string::npos);
}

TEST(HtmlReport, FailureTextsSitUnderTheirReason) {
  auto r = small_result();
  r["connections"]["failures"]["app_protocol_handshake"] = 7;
  r["connections"]["failures"]["tls_verify_failed"] = 2;
  r["tls"]["failures"] = nlohmann::json::array(
      {{{"reason", "tls_verify_failed"}, {"text", "certificate has expired"}, {"count", 2}}});
  r["connections"]["protocol_failures"] = {
      {{"reason", "app_protocol_handshake"}, {"text", "MQTT: CONNACK <refused>"}, {"count", 7}},
      {{"reason", "app_protocol_error"}, {"text", "not shown: no such failure"}, {"count", 1}}};
  const std::string page = html_report(r);
  const size_t reason = page.find("<td>app_protocol_handshake</td>");
  const size_t text = page.find("&quot;MQTT: CONNACK &lt;refused&gt;&quot;");
  ASSERT_NE(reason, std::string::npos);
  ASSERT_NE(text, std::string::npos);
  EXPECT_LT(reason, text);
  EXPECT_EQ(page.find("not shown"), std::string::npos);
  const size_t expired = page.find("&quot;certificate has expired&quot;");
  ASSERT_NE(expired, std::string::npos);
  EXPECT_LT(page.find("<td>tls_verify_failed</td>"), expired);
}

TEST(HtmlReport, OneChartSlotPerChartWhenUplotIsBuiltIn) {
  const std::string page = html_report(small_result());
  if (!charts_available()) {
    EXPECT_NE(page.find("Charts need uPlot"), std::string::npos);
    EXPECT_EQ(occurrences(page, "class=\"chart\""), 0u);
    GTEST_SKIP() << "built without uPlot (npm missing at configure time): tables only";
  }
  // open, connect rate, messages/s, round trip per interval, RSS; spectra of
  // round_trip and login (connect is empty).
  EXPECT_EQ(occurrences(page, "class=\"chart\""), 7u);
  EXPECT_NE(page.find("uPlot"), std::string::npos);
  EXPECT_NE(page.find("Percentile spectrum: scenario: login"), std::string::npos);
}

TEST(HtmlReport, TargetAndLadderSectionsOnlyWhenPresent) {
  auto r = small_result();
  EXPECT_EQ(html_report(r).find("<h2>Ladder"), std::string::npos);
  r["ladder"] = {
      {"broke_at", 3},
      {"levels", {{{"level", 1}, {"p99_ns", 1'000'000}}, {{"level", 2}, {"p99_ns", 9'000'000}}}}};
  r["target"] = {{"rss_bytes", 1 << 20}};
  for (auto& p : r["series"])
    p["target"] = {{"rss_bytes", 1 << 20}, {"cpu_user_seconds", 0.5}};
  const std::string page = html_report(r);
  EXPECT_NE(page.find("<h2>Ladder"), std::string::npos);
  EXPECT_NE(page.find("<h2>Target"), std::string::npos);
  if (charts_available()) {
    EXPECT_NE(page.find("Target&#39;s RSS"), std::string::npos);
    EXPECT_NE(page.find("Ladder: latency by level"), std::string::npos);
  }
}

}  // namespace
}  // namespace horde::app
