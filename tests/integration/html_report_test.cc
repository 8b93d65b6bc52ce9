// The HTML report of a real run, loaded in headless Chromium (Debian
// `chromium`): no console message at all, one uPlot canvas per chart and
// the page's own "every chart drawn" mark, a screenshot far from blank, and
// no http(s):// address anywhere in the file (it opens with the network
// off; Chromium is also given a dead proxy, so a fetch would log an error).
// `horde report` and `horde compare` on the same result. Skipped when
// Chromium is not installed or horde was built without uPlot.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/horde_cli.hh"

namespace horde {
namespace {

std::string file_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

size_t occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

long file_size(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? long(st.st_size) : -1;
}

std::string chromium_path() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (access(p, X_OK) == 0) return p;
  return {};
}

std::vector<std::string> chromium_args(const std::string& chromium, const std::string& page) {
  return {chromium,
          "--headless=new",
          "--no-sandbox",
          "--disable-gpu",
          "--hide-scrollbars",
          "--virtual-time-budget=5000",
          "--enable-logging=stderr",
          "--v=0",
          "--proxy-server=127.0.0.1:9",
          "--window-size=1200,3000",
          "file://" + page};
}

struct HtmlReportRun : testing::Test {
  static void SetUpTestSuite() {
    dir = testing::TempDir() + "/horde_html_" + std::to_string(getpid());
    mkdir(dir.c_str(), 0755);
    outcome = test::run_process({test::horde_binary, "run", "--quiet", "-c", "200", "-d", "3s",
                                 "--html", dir + "/out.html", "--json", dir + "/out.json"},
                                60000);
  }
  static void TearDownTestSuite() {
    for (const char* f :
         {"out.html", "out.json", "again.html", "cmp.html", "shot.png", "blank.png", "blank.html"})
      std::remove((dir + "/" + f).c_str());
    rmdir(dir.c_str());
  }
  static inline std::string dir;
  static inline test::process_outcome outcome;
};

TEST_F(HtmlReportRun, WritesOneSelfContainedPageWithNoAddressToFetch) {
  // 3: horde starved on a busy machine; the page is written either way.
  ASSERT_TRUE(outcome.exit_code == 0 || outcome.exit_code == 3) << outcome.err << outcome.out;
  const std::string page = file_text(dir + "/out.html");
  ASSERT_FALSE(page.empty());
  EXPECT_EQ(page.find("http://"), std::string::npos);
  EXPECT_EQ(page.find("https://"), std::string::npos);
  EXPECT_EQ(page.find(" src="), std::string::npos);
  EXPECT_LT(page.size(), 3u << 20);
  std::printf("HTML report of a 3 s, 200-connection run: %zu bytes\n", page.size());
}

TEST_F(HtmlReportRun, ReportAndCompareFromTheJson) {
  ASSERT_TRUE(outcome.exit_code == 0 || outcome.exit_code == 3) << outcome.err;
  auto report = test::run_process(
      {test::horde_binary, "report", dir + "/out.json", "-o", dir + "/again.html"}, 30000);
  EXPECT_EQ(report.exit_code, 0) << report.err;
  const std::string again = file_text(dir + "/again.html");
  EXPECT_NE(again.find("Percentile spectrum: round_trip"), std::string::npos);
  auto compared = test::run_process({test::horde_binary, "compare", dir + "/out.json",
                                     dir + "/out.json", "-o", dir + "/cmp.html"},
                                    30000);
  EXPECT_EQ(compared.exit_code, 0) << compared.err;
  EXPECT_NE(compared.out.find("round trip p99"), std::string::npos) << compared.out;
  EXPECT_NE(compared.out.find("same"), std::string::npos);
  EXPECT_NE(file_text(dir + "/cmp.html").find("<table>"), std::string::npos);
  auto not_a_result = test::run_process({test::horde_binary, "report", dir + "/again.html"}, 30000);
  EXPECT_EQ(not_a_result.exit_code, 2);
}

// Failures over time by reason, and the target's RSS and CPU (the embedded
// server is sampled: horde itself), each have a chart.
TEST_F(HtmlReportRun, ChartsFailuresByReasonAndTheTargetOverTime) {
  const std::string page = file_text(dir + "/out.html");
  if (page.find("Target's RSS") == std::string::npos)
    ADD_FAILURE() << "no target chart in a run that sampled the embedded server";
  const std::string refused_html = dir + "/refused.html";
  auto refused = test::run_process({test::horde_binary, "run", "--quiet", "ws://127.0.0.1:1/", "-c",
                                    "20", "-d", "2s", "--html", refused_html},
                                   60000);
  EXPECT_EQ(refused.exit_code, 1) << refused.err;  // nothing opened
  const std::string failed = file_text(refused_html);
  EXPECT_NE(failed.find("Failures by reason"), std::string::npos);
  EXPECT_NE(failed.find("connect_refused"), std::string::npos);
  std::remove(refused_html.c_str());
}

TEST_F(HtmlReportRun, ChromiumDrawsEveryChartWithoutAConsoleMessage) {
  ASSERT_TRUE(outcome.exit_code == 0 || outcome.exit_code == 3) << outcome.err;
  const std::string chromium = chromium_path();
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed (apt-get install chromium)";
  const std::string page_path = dir + "/out.html";
  const std::string page = file_text(page_path);
  const size_t charts = occurrences(page, "class=\"chart\"");
  if (charts == 0) GTEST_SKIP() << "horde was built without uPlot (npm missing): no charts";

  auto args = chromium_args(chromium, page_path);
  args.insert(args.end() - 1, "--dump-dom");
  auto dom = test::run_process(args, 60000);
  ASSERT_FALSE(dom.timed_out);
  ASSERT_EQ(dom.exit_code, 0) << dom.err;
  // The page logs nothing: any console line is an error, a warning or a
  // failed fetch. (Chromium's own dbus and GPU noise is not CONSOLE.)
  std::istringstream lines(dom.err);
  for (std::string line; std::getline(lines, line);) {
    EXPECT_EQ(line.find(":CONSOLE"), std::string::npos) << line;
    EXPECT_EQ(line.find("Uncaught"), std::string::npos) << line;
  }
  EXPECT_NE(dom.out.find("data-charts-drawn=\"" + std::to_string(charts) + "\""), std::string::npos)
      << "the script did not finish drawing " << charts << " charts";
  EXPECT_EQ(occurrences(dom.out, "<canvas"), charts);

  // A screenshot of the page against one of a blank page the same size:
  // drawn charts (lines, grids, labels) make the PNG many times larger.
  const std::string shot = dir + "/shot.png", blank_shot = dir + "/blank.png";
  const std::string blank = dir + "/blank.html";
  std::ofstream(blank) << "<!DOCTYPE html><html><body></body></html>\n";
  for (const auto& [path, png] : {std::pair{page_path, shot}, std::pair{blank, blank_shot}}) {
    auto a = chromium_args(chromium, path);
    a.insert(a.end() - 1, "--screenshot=" + png);
    auto taken = test::run_process(a, 60000);
    ASSERT_EQ(taken.exit_code, 0) << taken.err;
  }
  ASSERT_GT(file_size(blank_shot), 0);
  EXPECT_GT(file_size(shot), 10 * file_size(blank_shot))
      << "page " << file_size(shot) << " B, blank " << file_size(blank_shot) << " B";
}

}  // namespace
}  // namespace horde
