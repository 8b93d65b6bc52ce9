#include "sysctl/sock_diag.hh"

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace horde::sysctl {
namespace {

constexpr uint32_t tcp_listen_state = 10;  // TCP_LISTEN in include/net/tcp_states.h

// An owned descriptor, closed on every path.
struct descriptor {
  int fd = -1;
  ~descriptor() {
    if (fd >= 0) ::close(fd);
  }
};

bool ask(int fd, uint8_t family, uint32_t sequence) noexcept {
  struct {
    nlmsghdr header;
    inet_diag_req_v2 request;
  } message{};
  message.header.nlmsg_len = sizeof message;
  message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  message.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  message.header.nlmsg_seq = sequence;
  message.request.sdiag_family = family;
  message.request.sdiag_protocol = IPPROTO_TCP;
  message.request.idiag_states = 1U << tcp_listen_state;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  return ::sendto(fd, &message, sizeof message, 0, reinterpret_cast<sockaddr*>(&kernel),
                  sizeof kernel) == ssize_t(sizeof message);
}

}  // namespace

diag_status parse_diag_datagram(std::span<const uint8_t> datagram,
                                std::vector<listening_socket>& out, size_t max_listeners) noexcept {
  while (datagram.size() >= sizeof(nlmsghdr)) {
    nlmsghdr header;
    std::memcpy(&header, datagram.data(), sizeof header);
    if (header.nlmsg_len < sizeof header || header.nlmsg_len > datagram.size())
      return diag_status::invalid;
    if (header.nlmsg_type == NLMSG_DONE) return diag_status::done;
    if (header.nlmsg_type == NLMSG_ERROR) return diag_status::invalid;
    if (header.nlmsg_type == SOCK_DIAG_BY_FAMILY &&
        header.nlmsg_len >= sizeof header + sizeof(inet_diag_msg)) {
      inet_diag_msg message;
      std::memcpy(&message, datagram.data() + sizeof header, sizeof message);
      if (message.idiag_state == tcp_listen_state &&
          (message.idiag_family == AF_INET || message.idiag_family == AF_INET6) &&
          out.size() < max_listeners) {
        listening_socket socket;
        socket.port = ntohs(message.id.idiag_sport);
        socket.inode = message.idiag_inode;
        auto& bytes = socket.address.bytes;
        if (message.idiag_family == AF_INET) {
          // IPv4 is held as ::ffff:a.b.c.d (sysctl/proc_ports.hh).
          bytes[10] = 0xff;
          bytes[11] = 0xff;
          std::memcpy(bytes.data() + 12, &message.id.idiag_src[0], 4);
        } else {
          std::memcpy(bytes.data(), message.id.idiag_src, 16);
        }
        out.push_back(socket);
      }
    }
    const size_t step = NLMSG_ALIGN(header.nlmsg_len);
    if (step >= datagram.size()) break;
    datagram = datagram.subspan(step);
  }
  return diag_status::more;
}

std::optional<std::vector<listening_socket>> listening_sockets_from_kernel() {
  descriptor netlink{::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG)};
  if (netlink.fd < 0) return std::nullopt;
  const timeval patience{1, 0};
  ::setsockopt(netlink.fd, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
  std::vector<listening_socket> listeners;
  std::vector<uint8_t> buffer(64 * 1024);
  uint32_t sequence = 1;
  for (const uint8_t family : {uint8_t(AF_INET), uint8_t(AF_INET6)}) {
    if (!ask(netlink.fd, family, sequence++)) return std::nullopt;
    for (;;) {
      const ssize_t n = ::recv(netlink.fd, buffer.data(), buffer.size(), 0);
      if (n <= 0) return std::nullopt;  // no answer within a second, or an error
      const auto status =
          parse_diag_datagram(std::span<const uint8_t>(buffer.data(), size_t(n)), listeners);
      if (status == diag_status::invalid) return std::nullopt;
      if (status == diag_status::done) break;
    }
  }
  return listeners;
}

}  // namespace horde::sysctl
