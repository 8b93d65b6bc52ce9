// Fuzzes the /proc readers of a target's and the host's cost
// (sysctl/process_stats.hh, sysctl/host_stats.hh) with arbitrary text.
// Checked: they never read past the input; a /proc/PID/stat line read
// whole is read the same with a longer command name in front (fields count
// from the last ')'), and with anything after its 24th field.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sysctl/host_stats.hh"
#include "sysctl/process_stats.hh"
#include "tests/fuzz/fuzz_support.hh"

using namespace horde::sysctl;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  const auto stat = parse_process_stat(text);
  const size_t close = text.rfind(')');
  if (stat && close != std::string_view::npos) {
    const std::string renamed = "1 (a) b (c" + std::string(text.substr(close));
    const auto again = parse_process_stat(renamed);
    HORDE_FUZZ_CHECK(again && again->utime_ticks == stat->utime_ticks &&
                     again->stime_ticks == stat->stime_ticks && again->threads == stat->threads &&
                     again->rss_pages == stat->rss_pages);
    const auto longer = parse_process_stat(std::string(text) + " 7 8 9\n");
    HORDE_FUZZ_CHECK(longer && longer->rss_pages == stat->rss_pages);
  }

  (void)status_value(text, "VmRSS");
  (void)flat_keyed_value(text, "user_usec");
  if (const auto cpu = parse_host_cpu(text)) {
    const auto shares = shares_between(*cpu, *cpu);
    HORDE_FUZZ_CHECK(shares.user == 0 && shares.system == 0 && shares.softirq == 0);
  }
  (void)parse_interface_bytes(text, "lo");
  return 0;
}
