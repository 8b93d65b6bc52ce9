// Listening TCP sockets straight from the kernel (NETLINK_SOCK_DIAG, an
// inet_diag dump asking for TCP_LISTEN only): the kernel walks only its
// listening hash, so this costs the same on a host holding a million
// established sockets, where reading /proc/net/tcp took 0.35 s per 100,000
// sockets here (and horde read it three times at start).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "sysctl/proc_ports.hh"

namespace horde::sysctl {

enum class diag_status : uint8_t { more, done, invalid };

// Appends the listeners of one netlink datagram of an inet_diag dump to
// `out`; `done` at NLMSG_DONE, `invalid` for an error message or a
// malformed one. Pure: the fuzz target and the tests feed it bytes. At most
// max_listeners are kept.
diag_status parse_diag_datagram(std::span<const uint8_t> datagram,
                                std::vector<listening_socket>& out,
                                size_t max_listeners = 1'000'000) noexcept;

// Every listening TCP socket (IPv4 and IPv6) of this network namespace, or
// nullopt when the kernel's sock_diag cannot be used (then read /proc).
// Bounded: one second without an answer ends it.
std::optional<std::vector<listening_socket>> listening_sockets_from_kernel();

}  // namespace horde::sysctl
