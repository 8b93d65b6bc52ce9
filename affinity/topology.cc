// Reads CPU topology from sysfs under a caller-given root, so tests run on fake
// trees (tcpkali's hard-coded /proc paths are what this avoids). Only the
// online list is required: every other file has a safe default, because VMs and
// containers often hide parts of /sys and placement must still work there.
#include "affinity/topology.hh"

#include "affinity/sysfs_text.hh"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "affinity/cpu_set.hh"

namespace horde::affinity {
namespace {

namespace fs = std::filesystem;

// An empty cpulist is legal in sysfs (a memory-only NUMA node, no isolated
// CPUs), but parse_cpu_list rejects "" because "--cpus ''" is a user error.
result<std::vector<int>> parse_sysfs_cpu_list(const std::string& text, const fs::path& path) {
  if (text.empty()) return std::vector<int>{};
  auto cpus = parse_cpu_list(text);
  if (!cpus) return make_error(path.string() + ": " + cpus.error().message);
  return cpus;
}

result<int> parse_sysfs_int(const std::string& text, const fs::path& path) {
  int value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty()) {
    return make_error(path.string() + ": expected an integer, found '" + text + "'");
  }
  return value;
}

// Reads <dir>/<name> as an int; `fallback` when the file is absent.
result<int> read_int_or(const fs::path& dir, const char* name, int fallback) {
  const fs::path path = dir / name;
  auto text = read_text(path);
  if (!text) return fallback;
  return parse_sysfs_int(*text, path);
}

// cpu → NUMA node from <root>/sys/devices/system/node/nodeN/cpulist. Kernels
// built without CONFIG_NUMA have no node directories: everything is node 0.
result<std::map<int, int>> read_numa_nodes(const fs::path& node_dir) {
  std::map<int, int> node_of;
  std::error_code ec;
  fs::directory_iterator it(node_dir, ec);
  if (ec) return node_of;
  for (const auto& entry : it) {
    const std::string name = entry.path().filename().string();
    if (name.size() <= 4 || name.compare(0, 4, "node") != 0) continue;
    const std::string digits = name.substr(4);
    if (!std::all_of(digits.begin(), digits.end(),
                     [](unsigned char c) { return std::isdigit(c); })) {
      continue;  // "node" alone never appears, but e.g. a future "node_foo" might
    }
    const fs::path list_path = entry.path() / "cpulist";
    auto text = read_text(list_path);
    if (!text) continue;
    auto node = parse_sysfs_int(digits, entry.path());
    if (!node) return node.error();
    auto cpus = parse_sysfs_cpu_list(*text, list_path);
    if (!cpus) return cpus.error();
    for (int cpu : *cpus)
      node_of[cpu] = *node;
  }
  return node_of;
}

result<cpu_info> read_cpu(const fs::path& cpu_dir, int cpu, const std::map<int, int>& node_of,
                          const std::vector<int>& isolated) {
  cpu_info info;
  info.cpu = cpu;
  const fs::path topo = cpu_dir / ("cpu" + std::to_string(cpu)) / "topology";
  auto package = read_int_or(topo, "physical_package_id", 0);
  if (!package) return package.error();
  // Some firmware reports -1 for an unknown socket; one package is the truth there.
  info.package = *package < 0 ? 0 : *package;
  auto core = read_int_or(topo, "core_id", cpu);
  if (!core) return core.error();
  info.core = *core;

  const fs::path siblings_path = topo / "thread_siblings_list";
  if (auto text = read_text(siblings_path)) {
    auto siblings = parse_sysfs_cpu_list(*text, siblings_path);
    if (!siblings) return siblings.error();
    info.siblings = std::move(*siblings);
  }
  // A CPU is always its own sibling; keeping it in the list lets callers use
  // siblings.front() as the physical core's identity without a special case.
  if (std::find(info.siblings.begin(), info.siblings.end(), cpu) == info.siblings.end()) {
    info.siblings.push_back(cpu);
    std::sort(info.siblings.begin(), info.siblings.end());
  }

  if (auto node = node_of.find(cpu); node != node_of.end()) info.numa_node = node->second;
  info.isolated = std::binary_search(isolated.begin(), isolated.end(), cpu);
  return info;
}

std::vector<int> sorted_unique(std::vector<int> cpus) {
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  return cpus;
}

}  // namespace

result<topology> read_topology(const std::string& root, const std::vector<int>& allowed) {
  const fs::path system = fs::path(root) / "sys/devices/system";
  const fs::path cpu_dir = system / "cpu";

  const fs::path online_path = cpu_dir / "online";
  auto online_text = read_text(online_path);
  if (!online_text) {
    return make_error("cannot read " + online_path.string() + ": is /sys mounted?");
  }
  auto online = parse_sysfs_cpu_list(*online_text, online_path);
  if (!online) return online.error();
  const std::vector<int> online_cpus = sorted_unique(std::move(*online));

  std::vector<int> isolated;
  const fs::path isolated_path = cpu_dir / "isolated";
  if (auto text = read_text(isolated_path)) {
    auto list = parse_sysfs_cpu_list(*text, isolated_path);
    if (!list) return list.error();
    isolated = sorted_unique(std::move(*list));
  }

  auto node_of = read_numa_nodes(system / "node");
  if (!node_of) return node_of.error();

  const std::vector<int> wanted = sorted_unique(allowed);
  topology topo;
  topo.isolated = isolated;
  for (int cpu : wanted) {
    if (!std::binary_search(online_cpus.begin(), online_cpus.end(), cpu)) continue;
    auto info = read_cpu(cpu_dir, cpu, *node_of, isolated);
    if (!info) return info.error();
    topo.cpus.push_back(std::move(*info));
  }
  if (topo.cpus.empty()) {
    return make_error("none of the allowed CPUs (" + format_cpu_list(wanted) +
                      ") is online (online: " + format_cpu_list(online_cpus) + ")");
  }

  std::set<int> packages;
  std::set<std::pair<int, int>> cores;
  std::set<int> nodes;
  for (const cpu_info& info : topo.cpus) {
    packages.insert(info.package);
    cores.insert({info.package, info.siblings.front()});
    nodes.insert(info.numa_node);
  }
  topo.packages = int(packages.size());
  topo.cores = int(cores.size());
  topo.numa_nodes = int(nodes.size());
  return topo;
}

std::vector<int> cgroup_cpuset(const std::string& root) {
  const fs::path cgroup_root = fs::path(root) / "sys/fs/cgroup";
  // cgroup v2 lists the process's cgroup as "0::/path". Without a cgroup
  // namespace that path is below the mount; with one it is "/".
  fs::path own = "/";
  if (std::ifstream in(fs::path(root) / "proc/self/cgroup"); in) {
    std::string line;
    while (std::getline(in, line)) {
      if (line.compare(0, 3, "0::") == 0) {
        own = line.substr(3);
        break;
      }
    }
  }
  // The cpuset interface files exist only where the controller is enabled;
  // an ancestor's effective set contains ours, so the nearest one is the bound.
  for (fs::path dir = own.lexically_normal();; dir = dir.parent_path()) {
    const fs::path file = cgroup_root / dir.relative_path() / "cpuset.cpus.effective";
    if (auto text = read_text(file)) {
      if (text->empty()) return {};
      auto cpus = parse_cpu_list(*text);
      return cpus ? sorted_unique(std::move(*cpus)) : std::vector<int>{};
    }
    if (!dir.has_relative_path()) break;
  }
  return {};
}

std::vector<int> restrict_to_cpuset(const std::vector<int>& allowed,
                                    const std::vector<int>& cpuset) {
  const std::vector<int> a = sorted_unique(allowed);
  if (cpuset.empty()) return a;
  const std::vector<int> b = sorted_unique(cpuset);
  std::vector<int> both;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(both));
  return both.empty() ? a : both;
}

std::string format_cpu_list(std::vector<int> cpus) {
  cpus = sorted_unique(std::move(cpus));
  std::string text;
  for (size_t i = 0; i < cpus.size();) {
    size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1)
      ++j;
    if (!text.empty()) text += ',';
    text += std::to_string(cpus[i]);
    if (j > i) text += '-' + std::to_string(cpus[j]);
    i = j + 1;
  }
  return text;
}

}  // namespace horde::affinity
