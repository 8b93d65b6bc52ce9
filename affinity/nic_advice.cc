// NIC IRQ / RPS / XPS advice. Everything is read under a caller-given root so
// tests run on fake trees; nothing is written except by apply_nic_advice, which
// re-reads each file first so a value someone already set is left alone.
// Kernel interfaces: Documentation/networking/scaling.rst (RPS, XPS),
// Documentation/core-api/irq/irq-affinity.rst, net/ipv4/fib_trie.c (route file).
#include "affinity/nic_advice.hh"

#include "affinity/sysfs_text.hh"

#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string_view>

#include "affinity/cpu_set.hh"
#include "affinity/topology.hh"

namespace horde::affinity {
namespace {

namespace fs = std::filesystem;

// <linux/route.h> flag bits as /proc/net/route prints them.
constexpr unsigned route_up = 0x0001;
constexpr unsigned route_reject = 0x0200;

template <class T>
std::optional<T> parse_number(std::string_view text, int base = 10) {
  T value{};
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value, base);
  if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

// A production path ("/proc/irq/45/...") under the caller's root.
fs::path under_root(const std::string& root, const std::string& absolute) {
  return fs::path(root) / std::string_view(absolute).substr(1);
}

// The numbers N of entries named <prefix>N in `dir`, ascending; empty when the
// directory is absent.
std::vector<int> numbered_entries(const fs::path& dir, std::string_view prefix) {
  std::vector<int> numbers;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) return numbers;
  for (const auto& entry : it) {
    const std::string name = entry.path().filename().string();
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    if (auto n = parse_number<int>(std::string_view(name).substr(prefix.size()))) {
      numbers.push_back(*n);
    }
  }
  std::sort(numbers.begin(), numbers.end());
  return numbers;
}

// The device's MSI/MSI-X vectors. virtio-net's netdev device is the virtioN
// node, whose vectors belong to the PCI function above it; a NIC without MSI
// has one line interrupt in device/irq (0 means none).
std::vector<int> device_irqs(const fs::path& device) {
  std::vector<int> irqs = numbered_entries(device / "msi_irqs", "");
  if (!irqs.empty()) return irqs;
  std::error_code ec;
  const fs::path real = fs::canonical(device, ec);
  if (!ec) irqs = numbered_entries(real.parent_path() / "msi_irqs", "");
  if (!irqs.empty()) return irqs;
  if (auto text = read_text(device / "irq")) {
    if (auto irq = parse_number<int>(*text); irq && *irq > 0) return {*irq};
  }
  return {};
}

// The handler's name (the subdirectory /proc/irq/N/ has per action, e.g.
// "eth0-TxRx-0", "virtio2-input.0"); "" when the kernel or fake tree has none.
std::string handler_name(const fs::path& irq_dir) {
  std::vector<std::string> names;
  std::error_code ec;
  fs::directory_iterator it(irq_dir, ec);
  if (ec) return "";
  for (const auto& entry : it) {
    if (entry.is_directory(ec)) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names.empty() ? "" : names.front();
}

// Vectors for link events and firmware mail (virtio "-config", mlx5 "_async",
// ena "-mgmnt", i40e ":misc") carry no traffic: they stay where they are.
bool is_control_vector(const std::string& name) {
  for (const char* word : {"config", "async", "mgmnt", "misc"}) {
    if (name.find(word) != std::string::npos) return true;
  }
  return false;
}

// virtio-net gives queue pair N two vectors, "...-input.N" and "...-output.N";
// both belong with queue N. Other NICs use one vector per queue, in order.
std::optional<int> virtio_queue(const std::string& name) {
  for (std::string_view marker : {"-input.", "-output."}) {
    const size_t at = name.rfind(marker);
    if (at == std::string::npos) continue;
    if (auto n = parse_number<int>(std::string_view(name).substr(at + marker.size()))) return n;
  }
  return std::nullopt;
}

// IRQ files hold a cpulist ("0-3"); queue files a mask ("0000000f").
bool is_cpu_list_file(const std::string& path) {
  return path.find("/smp_affinity_list") != std::string::npos;
}

// Whether `text` (as read) already means exactly `cpus`: the kernel pads masks
// and writes ranges, so the text may differ from what advise_nic would write.
bool holds(const std::string& path, const std::string& text, std::vector<int> cpus) {
  std::sort(cpus.begin(), cpus.end());
  auto current = is_cpu_list_file(path) ? parse_cpu_list(text) : parse_cpu_mask(text);
  if (!current) return false;
  std::vector<int> have = std::move(*current);
  std::sort(have.begin(), have.end());
  have.erase(std::unique(have.begin(), have.end()), have.end());
  return have == cpus;
}

nic_queue_advice make_line(const std::string& root, std::string what, std::string path,
                           const std::vector<int>& cpus) {
  nic_queue_advice line;
  line.what = std::move(what);
  line.path = std::move(path);
  line.advised = is_cpu_list_file(line.path) ? format_cpu_list(cpus) : format_cpu_mask(cpus);
  line.fix = "echo " + line.advised + " > " + line.path;
  const auto text = read_text(under_root(root, line.path));
  line.current = text ? *text : "unreadable";
  line.ok = text && holds(line.path, *text, cpus);
  return line;
}

// Only the files advise_nic names may be written, whatever advice is passed in.
bool writable_nic_file(const std::string& path) {
  const bool prefix = path.rfind("/proc/irq/", 0) == 0 || path.rfind("/sys/class/net/", 0) == 0;
  return prefix && path.find("/..") == std::string::npos;
}

result<void> write_file(const fs::path& file, const std::string& value) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) return make_error("open " + file.string() + ": " + std::strerror(errno));
  const std::string text = value + "\n";
  // procfs and sysfs take the value in one write(); a short write is a refusal.
  const ssize_t written = ::write(fd, text.data(), text.size());
  const int write_errno = errno;
  const bool closed = ::close(fd) == 0;
  if (written != static_cast<ssize_t>(text.size())) {
    return make_error("write " + file.string() + ": " +
                      (written < 0 ? std::strerror(write_errno) : "short write"));
  }
  if (!closed) return make_error("close " + file.string() + ": " + std::strerror(errno));
  return {};
}

// Whether fib_trie lists `target` as a /32 host LOCAL address of this host:
// such traffic never leaves through a NIC, whatever /proc/net/route says.
bool is_own_address(const std::string& root, const std::string& target) {
  std::ifstream in(fs::path(root) / "proc/net/fib_trie");
  std::string line, last;
  while (std::getline(in, line)) {
    const size_t leaf = line.find("|-- ");
    if (leaf != std::string::npos) {
      last = line.substr(leaf + 4);
      while (!last.empty() && std::isspace(static_cast<unsigned char>(last.back())))
        last.pop_back();
    } else if (line.find("/32 host LOCAL") != std::string::npos && last == target) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string interface_for(const std::string& root, const std::string& target_ipv4) {
  in_addr addr{};
  if (::inet_pton(AF_INET, target_ipv4.c_str(), &addr) != 1) return "";
  // The route file prints each __be32 with %08X, i.e. in host byte order of the
  // raw network-order bytes ("0000000A" is 10.0.0.0 on little-endian): s_addr
  // as loaded compares with it directly on any host.
  const uint32_t target = addr.s_addr;
  unsigned char octets[4];
  std::memcpy(octets, &addr.s_addr, sizeof octets);
  if (octets[0] == 127 || target == 0) return "lo";
  if (is_own_address(root, target_ipv4)) return "lo";

  std::ifstream in(fs::path(root) / "proc/net/route");
  std::string line;
  std::getline(in, line);  // the header
  std::string best;
  int best_bits = -1;
  unsigned best_metric = 0;
  bool best_rejects = false;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string iface, dest_text, gateway, flags_text, refcnt, use, metric_text, mask_text;
    if (!(fields >> iface >> dest_text >> gateway >> flags_text >> refcnt >> use >> metric_text >>
          mask_text)) {
      continue;
    }
    const auto dest = parse_number<uint32_t>(dest_text, 16);
    const auto mask = parse_number<uint32_t>(mask_text, 16);
    const auto flags = parse_number<unsigned>(flags_text, 16);
    const auto metric = parse_number<unsigned>(metric_text);
    if (!dest || !mask || !flags || !metric || !(*flags & route_up)) continue;
    if (((target ^ *dest) & *mask) != 0) continue;
    const int bits = std::popcount(*mask);
    if (bits > best_bits || (bits == best_bits && *metric < best_metric)) {
      best = iface;
      best_bits = bits;
      best_metric = *metric;
      best_rejects = (*flags & route_reject) != 0;
    }
  }
  return best_rejects ? "" : best;
}

nic_advice advise_nic(const std::string& root, const std::string& interface,
                      const std::vector<int>& shard_cpus) {
  nic_advice advice;
  advice.interface = interface;
  if (interface.empty()) {
    advice.note = "no route to the target: no interface to advise on";
    return advice;
  }
  if (interface == "." || interface == ".." || interface.find('/') != std::string::npos) {
    advice.note = "'" + interface + "' is not an interface name";
    return advice;
  }
  const fs::path net = fs::path(root) / "sys/class/net" / interface;
  std::error_code ec;
  if (interface != "lo" && !fs::exists(net, ec)) {
    advice.note = "interface " + interface + " not found under /sys/class/net";
    return advice;
  }
  if (interface == "lo" || !fs::exists(net / "device", ec)) {
    advice.note = "loopback/virtual interface: no NIC queues to place";
    return advice;
  }
  advice.found = true;

  // Shards may share a CPU (more shards than CPUs); each CPU takes one turn.
  std::vector<int> cpus;
  for (int cpu : shard_cpus) {
    if (cpu >= 0 && std::find(cpus.begin(), cpus.end(), cpu) == cpus.end()) cpus.push_back(cpu);
  }
  if (cpus.empty()) {
    advice.note = interface + ": no shard CPUs to place its queues on";
    return advice;
  }
  const size_t n = cpus.size();

  // The shard that handles a flow should also take its interrupts, so the
  // queues' vectors go round the shard CPUs in queue order.
  size_t position = 0;
  int irq_count = 0;
  bool irq_changes = false;
  for (int irq : device_irqs(net / "device")) {
    const std::string name = handler_name(fs::path(root) / "proc/irq" / std::to_string(irq));
    if (is_control_vector(name)) continue;
    const int queue = virtio_queue(name).value_or(static_cast<int>(position++));
    const std::string what = "irq " + std::to_string(irq) + " (" + interface + " queue " +
                             std::to_string(queue) + (name.empty() ? "" : ": " + name) + ")";
    nic_queue_advice line =
        make_line(root, what, "/proc/irq/" + std::to_string(irq) + "/smp_affinity_list",
                  {cpus[static_cast<size_t>(queue) % n]});
    // irqbalance rewrites smp_affinity every 10 s unless it is stopped; once
    // in the commands is enough, before the first write.
    if (!line.ok && !irq_changes) line.fix = "systemctl stop irqbalance; " + line.fix;
    irq_changes = irq_changes || !line.ok;
    advice.lines.push_back(std::move(line));
    ++irq_count;
  }

  const std::string queues = "/sys/class/net/" + interface + "/queues/";
  const std::vector<int> rx = numbered_entries(net / "queues", "rx-");
  const std::vector<int> tx = numbered_entries(net / "queues", "tx-");
  // Fewer hardware queues than shards: RPS hashes each flow to a shard CPU in
  // software, so receive work is not stuck on the few CPUs taking interrupts.
  const bool rps = !rx.empty() && rx.size() < n;
  if (rps) {
    for (int q : rx) {
      const std::string name = "rx-" + std::to_string(q);
      advice.lines.push_back(
          make_line(root, name + " rps_cpus", queues + name + "/rps_cpus", cpus));
    }
  }
  // XPS: a CPU with no queue in any xps_cpus falls back to hashing, so when
  // queues are short every shard CPU j still gets queue j % queues.
  if (tx.size() > 1) {
    for (size_t i = 0; i < tx.size(); ++i) {
      std::vector<int> senders{cpus[i % n]};
      for (size_t j = i + tx.size(); j < n; j += tx.size())
        senders.push_back(cpus[j]);
      const std::string name = "tx-" + std::to_string(tx[i]);
      advice.lines.push_back(
          make_line(root, name + " xps_cpus", queues + name + "/xps_cpus", senders));
    }
  }

  advice.note = interface + ": " + std::to_string(irq_count) + " queue IRQs, " +
                std::to_string(rx.size()) + " rx / " + std::to_string(tx.size()) +
                " tx queues, shard CPUs " + format_cpu_list(cpus) + ".";
  if (irq_count == 0) advice.note += " No IRQs found under its device's msi_irqs or irq.";
  if (rps) advice.note += " Fewer rx queues than shard CPUs: RPS spreads receive work over them.";
  if (irq_changes) advice.note += " irqbalance undoes IRQ placement: systemctl stop irqbalance.";
  return advice;
}

std::vector<std::string> apply_nic_advice(const std::string& root, const nic_advice& advice) {
  std::vector<std::string> out;
  for (const nic_queue_advice& line : advice.lines) {
    if (line.ok) continue;
    if (!writable_nic_file(line.path)) {
      out.push_back("failed " + line.what + ": not a NIC file: " + line.path);
      continue;
    }
    const fs::path file = under_root(root, line.path);
    auto wanted =
        is_cpu_list_file(line.path) ? parse_cpu_list(line.advised) : parse_cpu_mask(line.advised);
    if (!wanted) {
      out.push_back("failed " + line.what + ": " + wanted.error().message);
      continue;
    }
    const auto before = read_text(file);
    if (!before) {
      out.push_back("failed " + line.what + ": cannot read " + file.string());
      continue;
    }
    if (holds(line.path, *before, *wanted)) continue;  // set since the advice was read
    if (auto written = write_file(file, line.advised); !written) {
      out.push_back("failed " + line.what + ": " + written.error().message);
      continue;
    }
    // Managed IRQs and offline CPUs can be refused silently: trust the read-back.
    const auto after = read_text(file);
    if (!after || !holds(line.path, *after, *wanted)) {
      out.push_back("failed " + line.what + ": wrote " + line.advised + ", the kernel kept " +
                    after.value_or("(unreadable)"));
      continue;
    }
    out.push_back("applied " + line.what + ": " + *before + " -> " + line.advised);
  }
  return out;
}

std::string format_cpu_mask(const std::vector<int>& cpus) {
  std::vector<uint32_t> words;
  for (int cpu : cpus) {
    if (cpu < 0) continue;
    const size_t word = static_cast<size_t>(cpu) / 32;
    if (words.size() <= word) words.resize(word + 1, 0);
    words[word] |= uint32_t{1} << (cpu % 32);
  }
  if (words.empty()) return "0";
  std::string text;
  char group[9];
  for (size_t i = words.size(); i-- > 0;) {
    std::snprintf(group, sizeof group, i + 1 == words.size() ? "%x" : "%08x",
                  static_cast<unsigned>(words[i]));
    if (!text.empty()) text += ',';
    text += group;
  }
  return text;
}

result<std::vector<int>> parse_cpu_mask(const std::string& text) {
  const auto bad = [&] {
    return make_error("bad CPU mask '" + text + "': expected hex like 00000000,0000000f");
  };
  std::vector<std::string_view> groups;
  std::string_view rest = text;
  while (true) {
    const size_t comma = rest.find(',');
    groups.push_back(rest.substr(0, comma));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  std::vector<int> cpus;
  // The last group holds CPUs 0-31, the one before it 32-63, and so on.
  for (size_t k = 0; k < groups.size(); ++k) {
    const std::string_view group = groups[groups.size() - 1 - k];
    if (group.empty() || group.size() > 8) return bad();
    const auto word = parse_number<uint32_t>(group, 16);
    if (!word) return bad();
    for (int bit = 0; bit < 32; ++bit) {
      if (*word & (uint32_t{1} << bit)) cpus.push_back(static_cast<int>(k) * 32 + bit);
    }
  }
  std::sort(cpus.begin(), cpus.end());
  return cpus;
}

}  // namespace horde::affinity
