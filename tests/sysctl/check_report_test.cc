// The tune table and the sysctl.d file, from the check lines of a small VM.
#include "sysctl/check_report.hh"

#include <gtest/gtest.h>

#include <sstream>

#include "tests/sysctl/fake_root.hh"

namespace horde::sysctl {
namespace {

std::vector<check_line> small_vm_lines(uint32_t sources) {
  testing_support::fake_root root;
  testing_support::lay_out_small_vm(root);
  auto limits = read_kernel_limits(root.path());
  EXPECT_TRUE(limits) << limits.error().message;
  plan_needs needs;
  needs.connections = 100000;
  needs.source_addresses = sources;
  needs.cpus = 2;
  return plan_checks(needs, limits ? *limits : kernel_limits{});
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> rows;
  std::istringstream in(text);
  for (std::string row; std::getline(in, row);)
    rows.push_back(row);
  return rows;
}

TEST(CheckReport, TableHasOneAlignedRowPerLineAndFixesUnderProblems) {
  const auto lines = small_vm_lines(3);
  const std::string table = render_table(lines);
  const auto rows = split_lines(table);

  size_t fixes = 0;
  for (const check_line& line : lines) {
    if (line.verdict != verdict::ok && !line.fix.empty()) ++fixes;
  }
  size_t main_rows = 0, fix_rows = 0;
  const size_t knob_column = rows.at(0).find("knob");
  const size_t current_column = rows.at(0).find("current");
  ASSERT_NE(knob_column, std::string::npos);
  for (size_t i = 1; i < rows.size(); ++i) {
    if (rows[i].rfind("    fix: ", 0) == 0) {
      ++fix_rows;
    } else if (rows[i].rfind("    note: ", 0) != 0) {
      ++main_rows;
      // Every row's knob and current value start in the header's columns.
      EXPECT_NE(rows[i][knob_column], ' ') << rows[i];
      EXPECT_EQ(rows[i][knob_column - 1], ' ') << rows[i];
      EXPECT_NE(rows[i][current_column], ' ') << rows[i];
    }
  }
  EXPECT_EQ(main_rows, lines.size());
  EXPECT_EQ(fix_rows, fixes);
  EXPECT_NE(table.find("FAIL     net.ipv4.ip_local_port_range"), std::string::npos) << table;
  EXPECT_NE(table.find("    fix: --source-ips with 4 addresses"), std::string::npos) << table;
  EXPECT_NE(table.find("adapted  RLIMIT_NOFILE"), std::string::npos) << table;
}

TEST(CheckReport, SysctlConfRaisesWhatNeedsRaising) {
  const std::string conf = sysctl_conf_text(small_vm_lines(3));
  EXPECT_NE(conf.find("\nnet.ipv4.ip_local_port_range = 1025 65535\n"), std::string::npos) << conf;
  EXPECT_NE(conf.find("\nnet.ipv4.tcp_max_syn_backlog = 4096\n"), std::string::npos) << conf;
  EXPECT_NE(conf.find("\nnet.ipv4.tcp_max_orphans = 262144\n"), std::string::npos) << conf;
  // Knobs already large enough are not written.
  EXPECT_EQ(conf.find("net.core.somaxconn ="), std::string::npos) << conf;
  EXPECT_EQ(conf.find("fs.file-max ="), std::string::npos) << conf;
  EXPECT_NE(conf.find("#   *  soft  nofile  1048576\n"), std::string::npos) << conf;
  EXPECT_NE(conf.find("#   *  hard  nofile  1048576\n"), std::string::npos) << conf;
  EXPECT_NE(conf.find("#   LimitNOFILE=1048576\n"), std::string::npos) << conf;
  // Every line that is not a comment or blank is "key = value".
  for (const std::string& row : split_lines(conf)) {
    if (row.empty() || row[0] == '#') continue;
    EXPECT_NE(row.find(" = "), std::string::npos) << row;
  }
}

TEST(CheckReport, SysctlConfWithNothingToRaise) {
  std::vector<check_line> lines(1);
  lines[0].knob = "net.core.somaxconn";
  const std::string conf = sysctl_conf_text(lines);
  EXPECT_NE(conf.find("Every sysctl already allows this plan"), std::string::npos) << conf;
  EXPECT_NE(conf.find("LimitNOFILE=1048576"), std::string::npos) << conf;
}

}  // namespace
}  // namespace horde::sysctl
