// Fuzzes the port readers of sysctl/proc_ports.hh (/proc/net/tcp and tcp6
// tables) and parse_port_list (ip_local_reserved_ports) with arbitrary text.
// Checked: they never read past the input; a table that parsed and saw its
// header parses again with one more LISTEN row appended, listing that row
// last; IPv4 tables give IPv4 addresses; a port list that parsed prints and
// parses back to the same spans, and ports_in_spans agrees with ports_within;
// colliding ports come out sorted and unique.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sysctl/kernel_limits.hh"
#include "sysctl/proc_ports.hh"
#include "tests/fuzz/fuzz_support.hh"

using namespace horde::sysctl;

namespace {

void check_table(std::string_view text, bool ipv6) {
  const auto listeners = parse_listening_sockets(text, ipv6);
  if (!listeners) return;
  for (const listening_socket& socket : *listeners) {
    if (!ipv6) HORDE_FUZZ_CHECK(socket.address.is_ipv4());
  }
  const std::vector<socket_address> sources = {*parse_socket_address("127.0.0.1"),
                                               *parse_socket_address("0.0.0.0")};
  const auto ports = colliding_listen_ports(*listeners, sources);
  HORDE_FUZZ_CHECK(std::is_sorted(ports.begin(), ports.end()));
  HORDE_FUZZ_CHECK(std::adjacent_find(ports.begin(), ports.end()) == ports.end());

  // A header was seen once a listener was found; one more row is one more listener.
  if (listeners->empty() || text.empty() || text.back() != '\n') return;
  const std::string row =
      ipv6
          ? "  99: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A\n"
          : "  99: 0100007F:1F90 00000000:0000 0A\n";
  const auto more = parse_listening_sockets(std::string(text) + row, ipv6);
  HORDE_FUZZ_CHECK(more && more->size() == listeners->size() + 1);
  HORDE_FUZZ_CHECK(std::equal(listeners->begin(), listeners->end(), more->begin()));
  HORDE_FUZZ_CHECK(more->back().port == 8080);
}

void check_port_list(std::string_view text) {
  const auto spans = parse_port_list(text);
  if (!spans) return;
  std::string printed;
  for (const port_span& span : *spans) {
    HORDE_FUZZ_CHECK(span.low <= span.high && span.high <= 65535);
    if (!printed.empty()) printed += ',';
    printed += std::to_string(span.low);
    if (span.high != span.low) printed += '-' + std::to_string(span.high);
  }
  const auto again = parse_port_list(printed);
  HORDE_FUZZ_CHECK(again && *again == *spans);
  const auto ports = ports_in_spans(*spans, 0, 65535);
  HORDE_FUZZ_CHECK(ports.size() == ports_within(*spans, 0, 65535));
  HORDE_FUZZ_CHECK(std::is_sorted(ports.begin(), ports.end()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_table(text, false);
  check_table(text, true);
  check_port_list(text);
  (void)parse_socket_address(text.substr(0, 64));
  return 0;
}
