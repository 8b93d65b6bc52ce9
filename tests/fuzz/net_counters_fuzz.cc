// Fuzzes the /proc/net table readers (sysctl/net_counters.hh) with arbitrary
// text. Checked: they never read past the input; a softnet table read twice
// over (the text repeated) sums to twice its drops; a value found in a
// "Prefix: names" / "Prefix: values" table is found again when the table is
// preceded by unrelated lines.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sysctl/net_counters.hh"
#include "tests/fuzz/fuzz_support.hh"

using namespace horde::sysctl;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  const auto drops = softnet_dropped(text);
  // (Under 2 KiB, so the doubled text stays within the readers' 4,096-line bound.)
  if (drops && size < 2048 && text.back() == '\n' && *drops < (uint64_t(1) << 62)) {
    const std::string twice = std::string(text) + std::string(text);
    const auto doubled = softnet_dropped(twice);
    HORDE_FUZZ_CHECK(doubled && *doubled == 2 * *drops);
  }

  for (const char* name : {"RetransSegs", "TCPTimeouts", "ListenOverflows"}) {
    const auto value = proc_table_value(text, "Tcp:", name);
    if (value) {
      const std::string preceded = "Udp: a b\nUdp: 1 2\n" + std::string(text);
      HORDE_FUZZ_CHECK(proc_table_value(preceded, "Tcp:", name) == value);
    }
    (void)proc_table_value(text, "TcpExt:", name);
  }
  return 0;
}
