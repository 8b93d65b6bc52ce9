// The local ports horde must not bind as source ports: those in
// net.ipv4.ip_local_reserved_ports (someone set them aside for a service) and
// those where a socket on this host listens on an address horde binds from
// (a client socket on such a port makes the service's next bind(), or horde's
// own, fail with EADDRINUSE, and a listener's port is not a client's to take).
// Read under a root directory ("/" in production; tests lay out a fake /proc).
// The parsers are I/O-free, bounded (line length, line count) and never throw
// on bad input: a malformed file is an error naming the line.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hh"
#include "sysctl/kernel_limits.hh"

namespace horde::sysctl {

// An IPv4 or IPv6 address as 16 bytes in network order; IPv4 is held
// IPv4-mapped (::ffff:a.b.c.d), so one comparison covers both families.
struct socket_address {
  std::array<uint8_t, 16> bytes{};
  bool is_ipv4() const noexcept;      // ::ffff:0:0/96
  bool is_any_ipv4() const noexcept;  // 0.0.0.0
  bool is_any_ipv6() const noexcept;  // ::
  friend bool operator==(const socket_address&, const socket_address&) = default;
};

// "127.0.0.2", "0.0.0.0", "::", "::1" (inet_pton); nullopt if neither family parses.
std::optional<socket_address> parse_socket_address(std::string_view text);

struct listening_socket {
  socket_address address;
  uint16_t port = 0;
  uint64_t inode = 0;  // the socket's inode: /proc/<pid>/fd/N -> "socket:[inode]"
  // The same listener: address and port (the inode is how to find its owner).
  friend bool operator==(const listening_socket& a, const listening_socket& b) {
    return a.address == b.address && a.port == b.port;
  }
};

// /proc/net/tcp and /proc/net/tcp6 hold at most this many lines here (a busy
// host lists every socket; past this the file is not one) and no line longer
// than this (a real line is about 150 bytes).
inline constexpr size_t max_proc_net_tcp_lines = 4'000'000;
inline constexpr size_t max_proc_net_tcp_line_bytes = 1024;

// The LISTEN sockets (state 0A) of a /proc/net/tcp (ipv6 false: "0100007F:1F90",
// the address a little-endian u32 in hex) or /proc/net/tcp6 (ipv6 true: four
// such u32 words) table, header line first. Other states are skipped; an
// empty text is no sockets. Error: a line that is not a socket row, too long,
// or too many lines.
result<std::vector<listening_socket>> parse_listening_sockets(std::string_view text, bool ipv6);

// Does a listener on `listener` stop a bind to `source` on the same port?
// Wildcards collide with everything of their family; :: is taken as
// dual-stack (IPV6_V6ONLY is not visible in /proc), so it collides with IPv4
// too; otherwise only the same address collides.
bool address_collides(const socket_address& listener, const socket_address& source) noexcept;

// The ports (sorted, unique) of listeners that collide with any source.
std::vector<uint16_t> colliding_listen_ports(const std::vector<listening_socket>& listeners,
                                             const std::vector<socket_address>& sources);

// The ports of [low, high] that spans cover, sorted and unique.
std::vector<uint16_t> ports_in_spans(const std::vector<port_span>& spans, uint32_t low,
                                     uint32_t high);

struct avoided_ports {
  std::vector<uint16_t> ports;  // sorted, unique, within [low, high]: reserved + listening
  size_t reserved = 0;          // of ports: in net.ipv4.ip_local_reserved_ports
  size_t listening =
      0;  // of ports: a colliding listener, not reserved (reserved + listening = size)
};

// The ports of [low, high] horde must not bind from `sources` ("127.0.0.1",
// "0.0.0.0", "::" as horde run names them), read under root from
// proc/sys/net/ipv4/ip_local_reserved_ports, proc/net/tcp and proc/net/tcp6.
// A missing file contributes nothing (no IPv6, a container without /proc/net);
// a present file that does not parse, or a source that is not an address,
// is an error naming it.
result<avoided_ports> ports_to_avoid(const std::string& root,
                                     const std::vector<std::string>& sources, uint32_t low,
                                     uint32_t high);

// Every listening TCP socket under `root`: from the kernel's sock_diag when
// root is "/" (only listeners, whatever else the host holds), else, or when
// netlink is refused, from <root>/proc/net/tcp{,6}.
result<std::vector<listening_socket>> read_listening_sockets(const std::string& root);

// The process listening on a local TCP port (on any address), as found by its
// socket's inode among /proc/<pid>/fd links: a local target's server, so
// `horde run` can leave it its CPUs.
struct listener_process {
  int pid = 0;
  std::string name;               // /proc/<pid>/comm
  std::string cpus_allowed_list;  // /proc/<pid>/status Cpus_allowed_list, e.g. "0-1"
};

// nullopt when nothing on this host listens on the port, or its owner cannot
// be seen (another user's process without privilege). Looks at most at
// max_fds descriptors in all, so a host with millions of sockets stays quick.
std::optional<listener_process> find_listener_process(const std::string& root, uint16_t port,
                                                      size_t max_fds = 2'000'000);

}  // namespace horde::sysctl
