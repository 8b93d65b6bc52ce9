// read_kernel_limits over fake /proc and /sys trees, its parsers, and one
// comparison against this machine's real /proc/sys.
#include "sysctl/kernel_limits.hh"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <fstream>
#include <sstream>

#include "sysctl/proc_file.hh"
#include "tests/sysctl/fake_root.hh"

namespace horde::sysctl {
namespace {

using testing_support::fake_root;

TEST(KernelLimits, ReadsASmallVmLikeThisOne) {
  fake_root root;
  testing_support::lay_out_small_vm(root);
  auto limits = read_kernel_limits(root.path());
  ASSERT_TRUE(limits) << limits.error().message;
  EXPECT_EQ(limits->nofile.soft, 20000u);
  EXPECT_EQ(limits->nofile.hard, 20000u);
  EXPECT_FALSE(limits->can_raise_hard);  // CapEff ...feffffff: bit 24 clear
  EXPECT_EQ(limits->nr_open, 1048576u);
  EXPECT_EQ(limits->file_max, 2466167u);
  EXPECT_EQ(limits->files_in_use, 1184u);
  ASSERT_TRUE(limits->local_port_range);
  EXPECT_EQ(*limits->local_port_range, (port_span{32768, 60999}));
  EXPECT_TRUE(limits->reserved_ports.empty());
  EXPECT_EQ(limits->somaxconn, 4096u);
  EXPECT_EQ(limits->tcp_max_syn_backlog, 2048u);
  EXPECT_EQ(limits->tcp_tw_reuse, 2u);
  EXPECT_EQ(limits->tcp_max_tw_buckets, 131072u);
  EXPECT_EQ(limits->tcp_max_orphans, 131072u);
  EXPECT_EQ(limits->tcp_mem, (std::array<uint64_t, 3>{287898, 383866, 575796}));
  EXPECT_EQ(limits->tcp_rmem, (std::array<uint64_t, 3>{4096, 131072, 33554432}));
  EXPECT_EQ(limits->tcp_wmem, (std::array<uint64_t, 3>{4096, 16384, 4194304}));
  EXPECT_EQ(limits->netdev_max_backlog, 1000u);
  EXPECT_EQ(limits->nf_conntrack_max, 262144u);
  EXPECT_EQ(limits->nf_conntrack_count, 0u);
  EXPECT_EQ(limits->max_map_count, 65530u);
  EXPECT_EQ(limits->memlock.soft, 8388608u);
  EXPECT_EQ(limits->memlock.hard, 8388608u);
  EXPECT_EQ(limits->thp_mode, "madvise");
  EXPECT_EQ(limits->mem_available, uint64_t(23592024) * 1024);
  EXPECT_EQ(limits->kernel_release, "6.18.44-fc-v769");
  EXPECT_GT(limits->page_size, 0u);
}

TEST(KernelLimits, ReadsATunedBox) {
  fake_root root;
  testing_support::lay_out_tuned_box(root);
  auto limits = read_kernel_limits(root.path());
  ASSERT_TRUE(limits) << limits.error().message;
  EXPECT_EQ(limits->nofile.soft, 1048576u);
  EXPECT_EQ(limits->nofile.hard, 1048576u);
  EXPECT_TRUE(limits->can_raise_hard);
  EXPECT_EQ(limits->file_max, 9223372036854775807u);
  EXPECT_EQ(*limits->local_port_range, (port_span{1025, 65535}));
  EXPECT_EQ(limits->memlock.soft, unlimited);
  EXPECT_EQ(limits->memlock.hard, unlimited);
  EXPECT_EQ(limits->thp_mode, "never");
  EXPECT_EQ(limits->mem_available, uint64_t(64) << 30);
  EXPECT_FALSE(limits->nf_conntrack_max);
}

TEST(KernelLimits, MissingFilesAreAbsentNotErrors) {
  fake_root root;
  testing_support::lay_out_small_vm(root);
  root.remove("proc/sys/net/netfilter/nf_conntrack_max");
  root.remove("proc/sys/net/netfilter/nf_conntrack_count");
  root.remove("sys/kernel/mm/transparent_hugepage/enabled");
  root.remove("proc/sys/net/ipv4/ip_local_reserved_ports");
  root.remove("proc/self/status");
  auto limits = read_kernel_limits(root.path());
  ASSERT_TRUE(limits) << limits.error().message;
  EXPECT_FALSE(limits->nf_conntrack_max);
  EXPECT_FALSE(limits->nf_conntrack_count);
  EXPECT_FALSE(limits->thp_mode);
  EXPECT_TRUE(limits->reserved_ports.empty());
  EXPECT_FALSE(limits->can_raise_hard);  // nothing proves the capability
  EXPECT_EQ(limits->somaxconn, 4096u);
}

TEST(KernelLimits, ReadsReservedPortsAndCapability) {
  fake_root root;
  testing_support::lay_out_small_vm(root);
  root.sysctl("net/ipv4/ip_local_reserved_ports", "8080,40000-40009");
  root.write("proc/self/status", "CapEff:\t0000000001000000\n");  // only CAP_SYS_RESOURCE
  auto limits = read_kernel_limits(root.path());
  ASSERT_TRUE(limits) << limits.error().message;
  EXPECT_EQ(limits->reserved_ports, (std::vector<port_span>{{8080, 8080}, {40000, 40009}}));
  EXPECT_TRUE(limits->can_raise_hard);
}

TEST(KernelLimits, UnlimitedNofileIsMax) {
  fake_root root;
  testing_support::lay_out_small_vm(root);
  root.write("proc/self/limits",
             testing_support::limits_file("1024", "unlimited", "65536", "65536"));
  auto limits = read_kernel_limits(root.path());
  ASSERT_TRUE(limits) << limits.error().message;
  EXPECT_EQ(limits->nofile.soft, 1024u);
  EXPECT_EQ(limits->nofile.hard, unlimited);
}

TEST(KernelLimits, MalformedFilesAreErrorsNamingTheFile) {
  struct bad_file {
    const char* relative;
    const char* text;
  };
  for (const bad_file& bad : {
           bad_file{"proc/sys/net/core/somaxconn", "lots\n"},
           bad_file{"proc/sys/net/ipv4/tcp_mem", "1 2\n"},
           bad_file{"proc/sys/net/ipv4/ip_local_port_range", "60999 32768\n"},
           bad_file{"proc/sys/net/ipv4/ip_local_reserved_ports", "80-70\n"},
           bad_file{"proc/self/status", "CapEff:\tzz\n"},
           bad_file{"proc/meminfo", "MemAvailable: many\n"},
           bad_file{"sys/kernel/mm/transparent_hugepage/enabled", "always madvise never\n"},
           bad_file{"proc/self/limits", "Max open files  lots  lots  files\n"},
       }) {
    fake_root root;
    testing_support::lay_out_small_vm(root);
    root.write(bad.relative, bad.text);
    auto limits = read_kernel_limits(root.path());
    ASSERT_FALSE(limits) << bad.relative;
    EXPECT_NE(limits.error().message.find(bad.relative), std::string::npos)
        << limits.error().message;
  }
}

TEST(KernelLimits, NoLimitsFileIsAnError) {
  fake_root root;
  testing_support::lay_out_small_vm(root);
  root.remove("proc/self/limits");
  auto limits = read_kernel_limits(root.path());
  ASSERT_FALSE(limits);
  EXPECT_NE(limits.error().message.find("proc/self/limits"), std::string::npos);
}

TEST(KernelLimits, ParsesPortLists) {
  EXPECT_TRUE(parse_port_list("")->empty());
  EXPECT_TRUE(parse_port_list("\n")->empty());
  EXPECT_EQ(*parse_port_list("9000"), (std::vector<port_span>{{9000, 9000}}));
  EXPECT_EQ(*parse_port_list("1-3,9000,50000-50010\n"),
            (std::vector<port_span>{{1, 3}, {9000, 9000}, {50000, 50010}}));
  for (const char* bad : {"a", "1-", "-1", "3-1", "1,,2", "70000", "1-70000", "1 2"}) {
    EXPECT_FALSE(parse_port_list(bad)) << bad;
  }
}

TEST(KernelLimits, CountsPortsWithinARangeOnce) {
  const std::vector<port_span> spans = {{100, 200}, {150, 250}, {9000, 9000}, {1, 10}};
  EXPECT_EQ(ports_within(spans, 1, 65535), 151u + 1 + 10);
  EXPECT_EQ(ports_within(spans, 180, 9000), 71u + 1);  // 180-250 and 9000
  EXPECT_EQ(ports_within(spans, 300, 8999), 0u);
  EXPECT_EQ(ports_within({}, 1, 65535), 0u);
}

TEST(KernelLimits, ReadsTheBracketedChoice) {
  EXPECT_EQ(bracketed_choice("[always] madvise never\n"), "always");
  EXPECT_EQ(bracketed_choice("always madvise [never]"), "never");
  EXPECT_FALSE(bracketed_choice("always madvise never"));
  EXPECT_FALSE(bracketed_choice("[]"));
}

TEST(KernelLimits, JoinsPathsUnderARoot) {
  EXPECT_EQ(under_root("/", "proc/sys/x"), "/proc/sys/x");
  EXPECT_EQ(under_root("/tmp/fake/", "/proc/sys/x"), "/tmp/fake/proc/sys/x");
  EXPECT_EQ(under_root("/tmp/fake", "proc"), "/tmp/fake/proc");
}

std::optional<std::string> read_real(const char* path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(KernelLimits, RealMachineMatchesProcSys) {
  auto range_text = read_real("/proc/sys/net/ipv4/ip_local_port_range");
  auto somaxconn_text = read_real("/proc/sys/net/core/somaxconn");
  if (!range_text || !somaxconn_text) GTEST_SKIP() << "/proc/sys is not readable here";
  auto limits = read_kernel_limits("/");
  ASSERT_TRUE(limits) << limits.error().message;

  auto range = parse_numbers(*range_text);
  ASSERT_TRUE(range && range->size() == 2);
  ASSERT_TRUE(limits->local_port_range);
  EXPECT_EQ(limits->local_port_range->low, (*range)[0]);
  EXPECT_EQ(limits->local_port_range->high, (*range)[1]);
  EXPECT_EQ(limits->somaxconn, parse_numbers(*somaxconn_text)->front());

  // /proc/self/limits is this process: it must agree with getrlimit.
  rlimit nofile{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &nofile), 0);
  EXPECT_EQ(limits->nofile.soft, nofile.rlim_cur == RLIM_INFINITY ? unlimited : nofile.rlim_cur);
  EXPECT_EQ(limits->nofile.hard, nofile.rlim_max == RLIM_INFINITY ? unlimited : nofile.rlim_max);
}

}  // namespace
}  // namespace horde::sysctl
