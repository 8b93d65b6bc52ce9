// Fake /sys trees for affinity tests: a private directory under
// testing::TempDir() holding just the files read_topology and cgroup_cpuset
// read, plus the machines the tests share (a 2-CPU VM, a 2-socket SMT box, a
// flat N-CPU box). Removed when the fake_sysfs goes out of scope.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace horde::affinity::testing_support {

class fake_sysfs {
 public:
  fake_sysfs() {
    static int counter = 0;
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    _root = std::filesystem::path(::testing::TempDir()) /
            ("horde_affinity_" + std::string(test ? test->name() : "none") + "_" +
             std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(_root);
    std::filesystem::create_directories(_root);
  }
  ~fake_sysfs() {
    std::error_code ignored;
    std::filesystem::remove_all(_root, ignored);
  }
  fake_sysfs(const fake_sysfs&) = delete;
  fake_sysfs& operator=(const fake_sysfs&) = delete;

  std::string root() const { return _root.string(); }

  // Writes `text` plus the newline sysfs ends every file with.
  void write(const std::string& relative, const std::string& text) const {
    const std::filesystem::path path = _root / relative;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << text << '\n';
  }

  void online(const std::string& list) const { write("sys/devices/system/cpu/online", list); }
  void isolated(const std::string& list) const { write("sys/devices/system/cpu/isolated", list); }
  void node(int n, const std::string& list) const {
    write("sys/devices/system/node/node" + std::to_string(n) + "/cpulist", list);
  }
  void cgroup_cpuset(const std::string& list) const {
    write("sys/fs/cgroup/cpuset.cpus.effective", list);
  }
  void cpu(int cpu, int package, int core, const std::string& siblings) const {
    const std::string dir = "sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
    write(dir + "physical_package_id", std::to_string(package));
    write(dir + "core_id", std::to_string(core));
    write(dir + "thread_siblings_list", siblings);
  }

 private:
  std::filesystem::path _root;
};

// (a) A 1-socket 2-core VM like the development machine: cpus 0-1, no SMT, one
// node, and (as on that VM) an empty isolated list.
inline void write_two_cpu_vm(const fake_sysfs& fs) {
  fs.online("0-1");
  fs.isolated("");
  fs.node(0, "0-1");
  fs.cpu(0, 0, 0, "0");
  fs.cpu(1, 0, 1, "1");
}

// (b) A 2-socket box, 32 cores per socket with SMT (64 cores, 128 CPUs), the
// Linux x86 numbering: cpu N and N+64 are siblings; socket 0 holds cores
// 0-31 (node 0 = 0-31,64-95), socket 1 cores 32-63 (node 1 = 32-63,96-127).
// core_id restarts at 0 on each socket, as the kernel reports it.
inline void write_two_socket_smt_box(const fake_sysfs& fs) {
  fs.online("0-127");
  fs.isolated("");
  fs.node(0, "0-31,64-95");
  fs.node(1, "32-63,96-127");
  for (int cpu = 0; cpu < 128; ++cpu) {
    const int first = cpu % 64;
    const std::string siblings = std::to_string(first) + "," + std::to_string(first + 64);
    fs.cpu(cpu, first / 32, first % 32, siblings);
  }
}

// An N-CPU box on one socket, no SMT, no NUMA (no node directories at all).
inline void write_flat_box(const fake_sysfs& fs, int cpus) {
  fs.online("0-" + std::to_string(cpus - 1));
  for (int cpu = 0; cpu < cpus; ++cpu)
    fs.cpu(cpu, 0, cpu, std::to_string(cpu));
}

}  // namespace horde::affinity::testing_support
