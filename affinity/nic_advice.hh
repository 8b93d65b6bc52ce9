// Where a NIC's interrupts and receive/transmit steering should land relative
// to the shard CPUs, for `horde tune`: read from /proc and /sys under a root
// directory given by the caller ("/" in production, a fake tree in tests), and
// written only by apply_nic_advice (`--apply`).
// Invariant: a line's `path` and `fix` always name the production file
// ("/proc/irq/45/smp_affinity_list"); only apply_nic_advice prefixes the root.
#pragma once

#include <string>
#include <vector>

#include "base/result.hh"

namespace horde::affinity {

struct nic_queue_advice {
  std::string what;     // "irq 45 (eth0 queue 0)", "rx-0 rps_cpus", "tx-1 xps_cpus"
  std::string current;  // the file's text as read ("0-3", "00000000,0000000f"), or "unreadable"
  std::string advised;  // the value to write ("3", "f")
  std::string fix;      // the exact command: "echo 3 > /proc/irq/45/smp_affinity_list"
  bool ok = false;      // current already means the same CPUs as advised
  std::string path;     // the file apply_nic_advice writes, as on a real host
};

struct nic_advice {
  std::string interface;
  bool found = false;  // a real NIC with a device behind it
  std::string note;    // why there is nothing to do, or what the advice rests on
  std::vector<nic_queue_advice> lines;
};

// The interface that carries traffic to `target_ipv4` ("10.0.0.5"), from
// <root>/proc/net/route: the up route with the longest mask, lowest metric on a
// tie. "lo" for 127.0.0.0/8, 0.0.0.0 and this host's own addresses (local
// routes live in another table; <root>/proc/net/fib_trie lists them). Returns ""
// when the target is not an IPv4 literal, no route matches, or it is a reject route.
std::string interface_for(const std::string& root, const std::string& target_ipv4);

// Advice for `interface` relative to `shard_cpus` (duplicates ignored, order
// kept). found=false with a note for loopback, virtual (no device/) or missing
// interfaces. For a NIC, lines in this order: its queue IRQs one per shard CPU
// round-robin; rps_cpus = all shard CPUs on each rx queue when there are fewer
// rx queues than shard CPUs; xps_cpus on tx queue i = shard CPU i % n plus, when
// there are fewer tx queues than shard CPUs, every shard CPU j with j % queues
// == i (so each shard CPU sends on one queue). No XPS lines for one tx queue.
nic_advice advise_nic(const std::string& root, const std::string& interface,
                      const std::vector<int>& shard_cpus);

// Writes `advised` to every line that is not ok and whose file does not already
// hold it when re-read, under <root> only. Returns one line per write:
// "applied <what>: <old> -> <new>" or "failed <what>: <reason>".
std::vector<std::string> apply_nic_advice(const std::string& root, const nic_advice& advice);

// The kernel's cpumask text: hex, 32-bit groups separated by commas, most
// significant first ("1,00000000" is CPU 32). Shortest form, "0" for none.
std::string format_cpu_mask(const std::vector<int>& cpus);

// Parses that form (groups of 1-8 hex digits; the kernel pads them, writers
// need not). Returns the CPUs ascending, or an error quoting the text.
result<std::vector<int>> parse_cpu_mask(const std::string& text);

}  // namespace horde::affinity
