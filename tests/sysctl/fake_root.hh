// A fake root directory for sysctl/ tests: a throwaway tree under
// testing::TempDir() holding the /proc and /sys files a machine would show,
// and the machines the tests describe (this 2-core VM, a tuned big box).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace horde::sysctl::testing_support {

class fake_root {
 public:
  fake_root() {
    std::string pattern = ::testing::TempDir();
    if (pattern.empty() || pattern.back() != '/') pattern += '/';
    pattern += "horde_sysctl_XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp " << pattern;
    _path = pattern;
  }
  ~fake_root() {
    std::error_code ignored;
    std::filesystem::remove_all(_path, ignored);
  }
  fake_root(const fake_root&) = delete;
  fake_root& operator=(const fake_root&) = delete;

  const std::string& path() const { return _path; }

  // Writes <root>/<relative>, creating its directories.
  void write(const std::string& relative, const std::string& text) const {
    const std::filesystem::path file = std::filesystem::path(_path) / relative;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) ADD_FAILURE() << "cannot write " << file;
  }

  void remove(const std::string& relative) const {
    std::filesystem::remove(std::filesystem::path(_path) / relative);
  }

  std::string read(const std::string& relative) const {
    std::ifstream in(std::filesystem::path(_path) / relative, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  void sysctl(const std::string& proc_sys_path, const std::string& value) const {
    write("proc/sys/" + proc_sys_path, value + "\n");
  }

 private:
  std::string _path;
};

// One row of /proc/self/limits in the kernel's own column layout.
inline std::string limits_row(const char* name, const std::string& soft, const std::string& hard,
                              const char* units) {
  char row[128];
  std::snprintf(row, sizeof row, "%-26s%-21s%-21s%-10s\n", name, soft.c_str(), hard.c_str(), units);
  return row;
}

inline std::string limits_file(const std::string& nofile_soft, const std::string& nofile_hard,
                               const std::string& memlock_soft, const std::string& memlock_hard) {
  return limits_row("Limit", "Soft Limit", "Hard Limit", "Units") +
         limits_row("Max cpu time", "unlimited", "unlimited", "seconds") +
         limits_row("Max stack size", "8388608", "unlimited", "bytes") +
         limits_row("Max processes", "96365", "96365", "processes") +
         limits_row("Max open files", nofile_soft, nofile_hard, "files") +
         limits_row("Max locked memory", memlock_soft, memlock_hard, "bytes") +
         limits_row("Max address space", "unlimited", "unlimited", "bytes");
}

// A 1-socket 2-core VM like the one horde is developed on (PLATFORM.md):
// nofile 20,000/20,000 and no CAP_SYS_RESOURCE, ports 32768-60999, TIME_WAIT
// and orphan caps 131,072, conntrack loaded but tracking nothing.
inline void lay_out_small_vm(const fake_root& root) {
  root.write("proc/self/limits", limits_file("20000", "20000", "8388608", "8388608"));
  root.write("proc/self/status",
             "Name:\thorde\nCapInh:\t0000000000000000\nCapPrm:\t000001fffeffffff\n"
             "CapEff:\t000001fffeffffff\nCapBnd:\t000001fffeffffff\n");
  root.sysctl("fs/nr_open", "1048576");
  root.sysctl("fs/file-max", "2466167");
  root.sysctl("fs/file-nr", "1184\t0\t2466167");
  root.sysctl("net/ipv4/ip_local_port_range", "32768\t60999");
  root.sysctl("net/ipv4/ip_local_reserved_ports", "");
  root.sysctl("net/core/somaxconn", "4096");
  root.sysctl("net/ipv4/tcp_max_syn_backlog", "2048");
  root.sysctl("net/ipv4/tcp_tw_reuse", "2");
  root.sysctl("net/ipv4/tcp_max_tw_buckets", "131072");
  root.sysctl("net/ipv4/tcp_max_orphans", "131072");
  root.sysctl("net/ipv4/tcp_mem", "287898\t383866\t575796");
  root.sysctl("net/ipv4/tcp_rmem", "4096\t131072\t33554432");
  root.sysctl("net/ipv4/tcp_wmem", "4096\t16384\t4194304");
  root.sysctl("net/core/netdev_max_backlog", "1000");
  root.sysctl("net/netfilter/nf_conntrack_max", "262144");
  root.sysctl("net/netfilter/nf_conntrack_count", "0");
  root.sysctl("vm/max_map_count", "65530");
  root.sysctl("kernel/osrelease", "6.18.44-fc-v769");
  root.write("sys/kernel/mm/transparent_hugepage/enabled", "always [madvise] never\n");
  root.write("proc/meminfo",
             "MemTotal:       24683620 kB\nMemFree:        22988412 kB\n"
             "MemAvailable:   23592024 kB\nBuffers:          123456 kB\n");
}

// A big host tuned for connection generation: nofile 1,048,576, ports
// 1025-65535, 64 GiB available, TIME_WAIT reuse on, conntrack not loaded.
inline void lay_out_tuned_box(const fake_root& root) {
  root.write("proc/self/limits", limits_file("1048576", "1048576", "unlimited", "unlimited"));
  root.write("proc/self/status", "Name:\thorde\nCapEff:\t000001ffffffffff\n");
  root.sysctl("fs/nr_open", "1048576");
  root.sysctl("fs/file-max", "9223372036854775807");
  root.sysctl("fs/file-nr", "2048\t0\t9223372036854775807");
  root.sysctl("net/ipv4/ip_local_port_range", "1025\t65535");
  root.sysctl("net/ipv4/ip_local_reserved_ports", "");
  root.sysctl("net/core/somaxconn", "65535");
  root.sysctl("net/ipv4/tcp_max_syn_backlog", "65535");
  root.sysctl("net/ipv4/tcp_tw_reuse", "1");
  root.sysctl("net/ipv4/tcp_max_tw_buckets", "2000000");
  root.sysctl("net/ipv4/tcp_max_orphans", "2000000");
  root.sysctl("net/ipv4/tcp_mem", "3000000\t4000000\t6000000");
  root.sysctl("net/ipv4/tcp_rmem", "4096\t131072\t33554432");
  root.sysctl("net/ipv4/tcp_wmem", "4096\t16384\t33554432");
  root.sysctl("net/core/netdev_max_backlog", "16384");
  root.sysctl("vm/max_map_count", "262144");
  root.sysctl("kernel/osrelease", "6.8.0-45-generic");
  root.write("sys/kernel/mm/transparent_hugepage/enabled", "always madvise [never]\n");
  root.write("proc/meminfo",
             "MemTotal:       131072000 kB\nMemFree:        70000000 kB\n"
             "MemAvailable:   67108864 kB\n");
}

}  // namespace horde::sysctl::testing_support
