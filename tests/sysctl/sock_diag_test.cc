#include "sysctl/sock_diag.hh"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace horde::sysctl {
namespace {

// One SOCK_DIAG_BY_FAMILY message as the kernel writes it.
void append_listener(std::vector<uint8_t>& out, uint8_t family, const char* address, uint16_t port,
                     uint32_t inode, uint8_t state = 10) {
  nlmsghdr header{};
  header.nlmsg_len = NLMSG_LENGTH(sizeof(inet_diag_msg));
  header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  inet_diag_msg message{};
  message.idiag_family = family;
  message.idiag_state = state;
  message.id.idiag_sport = htons(port);
  message.idiag_inode = inode;
  inet_pton(family, address, message.id.idiag_src);
  const size_t at = out.size();
  out.resize(at + NLMSG_ALIGN(header.nlmsg_len));
  std::memcpy(out.data() + at, &header, sizeof header);
  std::memcpy(out.data() + at + sizeof header, &message, sizeof message);
}

void append_type(std::vector<uint8_t>& out, uint16_t type) {
  nlmsghdr header{};
  header.nlmsg_len = NLMSG_LENGTH(4);
  header.nlmsg_type = type;
  const size_t at = out.size();
  out.resize(at + NLMSG_ALIGN(header.nlmsg_len));
  std::memcpy(out.data() + at, &header, sizeof header);
}

TEST(SockDiag, ReadsListenersOfBothFamiliesUntilDone) {
  std::vector<uint8_t> datagram;
  append_listener(datagram, AF_INET, "0.0.0.0", 2024, 11);
  append_listener(datagram, AF_INET, "127.0.0.2", 9000, 12);
  append_listener(datagram, AF_INET, "127.0.0.1", 9001, 13, 1);  // established: not kept
  append_listener(datagram, AF_INET6, "::1", 631, 14);
  std::vector<listening_socket> out;
  EXPECT_EQ(parse_diag_datagram(datagram, out), diag_status::more);
  append_type(datagram, NLMSG_DONE);
  out.clear();
  EXPECT_EQ(parse_diag_datagram(datagram, out), diag_status::done);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].port, 2024);
  EXPECT_TRUE(out[0].address.is_any_ipv4());
  EXPECT_EQ(out[1].address, *parse_socket_address("127.0.0.2"));
  EXPECT_EQ(out[1].inode, 12u);
  EXPECT_EQ(out[2].address, *parse_socket_address("::1"));
}

TEST(SockDiag, ErrorsAndBadLengthsAreInvalid) {
  std::vector<uint8_t> error;
  append_type(error, NLMSG_ERROR);
  std::vector<listening_socket> out;
  EXPECT_EQ(parse_diag_datagram(error, out), diag_status::invalid);
  std::vector<uint8_t> lying;
  append_listener(lying, AF_INET, "0.0.0.0", 1, 1);
  nlmsghdr header;
  std::memcpy(&header, lying.data(), sizeof header);
  header.nlmsg_len = uint32_t(lying.size() + 100);  // longer than the datagram
  std::memcpy(lying.data(), &header, sizeof header);
  EXPECT_EQ(parse_diag_datagram(lying, out), diag_status::invalid);
  // Every prefix of a good datagram parses or stops cleanly.
  std::vector<uint8_t> good;
  append_listener(good, AF_INET, "0.0.0.0", 80, 2);
  append_type(good, NLMSG_DONE);
  for (size_t n = 0; n <= good.size(); ++n) {
    out.clear();
    parse_diag_datagram(std::span<const uint8_t>(good.data(), n), out);
    EXPECT_LE(out.size(), 1u);
  }
}

TEST(SockDiag, TheKernelListsASocketWeListenOn) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in where{};
  where.sin_family = AF_INET;
  where.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&where), sizeof where), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t length = sizeof where;
  getsockname(fd, reinterpret_cast<sockaddr*>(&where), &length);
  const uint16_t port = ntohs(where.sin_port);
  auto listeners = listening_sockets_from_kernel();
  if (!listeners) {
    close(fd);
    GTEST_SKIP() << "NETLINK_SOCK_DIAG refused here: horde reads /proc/net/tcp instead";
  }
  const bool found = std::any_of(listeners->begin(), listeners->end(), [&](const auto& s) {
    return s.port == port && s.address == *parse_socket_address("127.0.0.1") && s.inode != 0;
  });
  EXPECT_TRUE(found);
  close(fd);
}

}  // namespace
}  // namespace horde::sysctl
