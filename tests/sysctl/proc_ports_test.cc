// Reserved and listening ports over fake /proc trees whose /proc/net/tcp and
// tcp6 are copied from a real kernel's output (header line included; IPv4
// addresses are little-endian hex words), then the real /proc of this host.
#include "sysctl/proc_ports.hh"

#include <gtest/gtest.h>

#include <filesystem>

#include <algorithm>
#include <string>
#include <vector>

#include "sysctl/proc_file.hh"
#include "tests/sysctl/fake_root.hh"

namespace horde::sysctl {
namespace {

using testing_support::fake_root;

// As Linux 6.x prints it: 0.0.0.0:2024, 127.0.0.1:8080, 127.0.0.2:9000,
// 127.0.0.2:9100 and 127.0.0.5:9200 listen; 127.0.0.1:40000 is connected to
// 8080 and 127.0.0.1:41000 sits in TIME_WAIT.
const std::string tcp_table =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
    "inode                                                     \n"
    "   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
    "1069 1 000000002b787801 100 0 0 10 0                      \n"
    "   1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 "
    "23456 1 0000000000000000 100 0 0 10 0                     \n"
    "   2: 0200007F:2328 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 "
    "23457 1 0000000000000000 100 0 0 10 0                     \n"
    "   3: 0200007F:238C 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 "
    "23458 1 0000000000000000 100 0 0 10 0                     \n"
    "   4: 0500007F:23F0 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 "
    "23459 1 0000000000000000 100 0 0 10 0                     \n"
    "   5: 0100007F:9C40 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 "
    "34567 1 0000000000000000 20 4 30 10 -1                    \n"
    "   6: 0100007F:A028 0100007F:1F90 06 00000000:00000000 03:00001770 00000000     0        0 "
    "0 3 0000000000000000                                        \n";

// [::]:5432 (dual-stack), [::1]:631, [::ffff:127.0.0.3]:5000, and a connected row.
const std::string tcp6_table =
    "  sl  local_address                         remote_address                        st "
    "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    "   0: 00000000000000000000000000000000:1538 00000000000000000000000000000000:0000 0A "
    "00000000:00000000 00:00000000 00000000   114        0 15170 1 0000000000000000 100 0 0 10 "
    "0\n"
    "   1: 00000000000000000000000001000000:0277 00000000000000000000000000000000:0000 0A "
    "00000000:00000000 00:00000000 00000000     0        0 16000 1 0000000000000000 100 0 0 10 "
    "0\n"
    "   2: 0000000000000000FFFF00000300007F:1388 00000000000000000000000000000000:0000 0A "
    "00000000:00000000 00:00000000 00000000  1000        0 16001 1 0000000000000000 100 0 0 10 "
    "0\n"
    "   3: 00000000000000000000000001000000:0277 00000000000000000000000001000000:D431 01 "
    "00000000:00000000 00:00000000 00000000     0        0 16002 1 0000000000000000 20 4 30 10 "
    "-1\n";

socket_address address(const char* text) {
  auto parsed = parse_socket_address(text);
  EXPECT_TRUE(parsed) << text;
  return parsed ? *parsed : socket_address{};
}

listening_socket listener(const char* text, uint16_t port) {
  return {address(text), port};
}

void lay_out_ports(const fake_root& root, const std::string& reserved) {
  root.sysctl("net/ipv4/ip_local_reserved_ports", reserved);
  root.write("proc/net/tcp", tcp_table);
  root.write("proc/net/tcp6", tcp6_table);
}

TEST(ProcPorts, ReadsListenersFromATcpTable) {
  auto sockets = parse_listening_sockets(tcp_table, false);
  ASSERT_TRUE(sockets) << sockets.error().message;
  const std::vector<listening_socket> expected = {
      listener("0.0.0.0", 2024), listener("127.0.0.1", 8080), listener("127.0.0.2", 9000),
      listener("127.0.0.2", 9100), listener("127.0.0.5", 9200)};
  EXPECT_EQ(*sockets, expected);
}

TEST(ProcPorts, ReadsListenersFromATcp6Table) {
  auto sockets = parse_listening_sockets(tcp6_table, true);
  ASSERT_TRUE(sockets) << sockets.error().message;
  const std::vector<listening_socket> expected = {listener("::", 5432), listener("::1", 631),
                                                  listener("::ffff:127.0.0.3", 5000)};
  EXPECT_EQ(*sockets, expected);
  EXPECT_TRUE((*sockets)[2].address.is_ipv4());
  EXPECT_TRUE((*sockets)[0].address.is_any_ipv6());
}

TEST(ProcPorts, EmptyAndHeaderOnlyTablesHoldNoListeners) {
  for (const std::string& text :
       {std::string(), std::string("\n"), tcp_table.substr(0, tcp_table.find('\n') + 1)}) {
    auto sockets = parse_listening_sockets(text, false);
    ASSERT_TRUE(sockets) << sockets.error().message;
    EXPECT_TRUE(sockets->empty());
  }
}

// Cut at a line boundary, a table is the first rows' listeners; cut inside a
// row, it is an error or (inside trailing columns) the same listeners.
TEST(ProcPorts, EveryPrefixParsesOrFailsCleanly) {
  for (const auto& [table, ipv6] : {std::pair{tcp_table, false}, std::pair{tcp6_table, true}}) {
    const auto whole = parse_listening_sockets(table, ipv6);
    ASSERT_TRUE(whole);
    for (size_t cut = 0; cut <= table.size(); ++cut) {
      const std::string prefix = table.substr(0, cut);
      auto sockets = parse_listening_sockets(prefix, ipv6);
      if (!sockets) continue;
      ASSERT_LE(sockets->size(), whole->size()) << cut;
      EXPECT_TRUE(std::equal(sockets->begin(), sockets->end(), whole->begin())) << cut;
      if (cut == table.size()) {
        EXPECT_EQ(*sockets, *whole);
      }
    }
  }
}

TEST(ProcPorts, MalformedTablesAreErrorsNamingTheLine) {
  const std::string header = tcp_table.substr(0, tcp_table.find('\n') + 1);
  const std::string row =
      "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1\n";
  EXPECT_TRUE(parse_listening_sockets(header + row, false));
  // No header; an IPv6 row in an IPv4 table; bad hex; no colon after the slot; no state.
  for (const std::string& bad : {row,
                                 header + "   0: 00000000000000000000000000000000:1538 "
                                          "00000000000000000000000000000000:0000 0A\n",
                                 header + "   0: 0100007G:1F90 00000000:0000 0A\n",
                                 header + "   0 0100007F:1F90 00000000:0000 0A\n",
                                 header + "   0: 0100007F:1F90 00000000:0000\n",
                                 header + "   0: 0100007F:1F90 00000000:0000 A\n",
                                 header + "   0: 0100007F:1F9 00000000:0000 0A\n",
                                 header + "  x0: 0100007F:1F90 00000000:0000 0A\n"}) {
    auto sockets = parse_listening_sockets(bad, false);
    EXPECT_FALSE(sockets) << bad;
  }
  auto bad = parse_listening_sockets(header + row + "   1: junk\n", false);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("line 3"), std::string::npos) << bad.error().message;

  const std::string long_row =
      "   0: 0100007F:1F90 00000000:0000 0A" + std::string(max_proc_net_tcp_line_bytes, ' ') + "\n";
  auto too_long = parse_listening_sockets(header + long_row, false);
  ASSERT_FALSE(too_long);
  EXPECT_NE(too_long.error().message.find("longer than"), std::string::npos);
}

TEST(ProcPorts, WildcardsCollideWithEverySourceOfTheirFamily) {
  const socket_address lo1 = address("127.0.0.1"), lo2 = address("127.0.0.2");
  const socket_address any4 = address("0.0.0.0"), any6 = address("::"), v6 = address("::1");
  EXPECT_TRUE(address_collides(any4, lo1));
  EXPECT_TRUE(address_collides(any4, lo2));
  EXPECT_FALSE(address_collides(any4, v6));
  EXPECT_TRUE(address_collides(any6, lo1));  // dual-stack unless IPV6_V6ONLY
  EXPECT_TRUE(address_collides(any6, v6));
  EXPECT_TRUE(address_collides(lo1, lo1));
  EXPECT_FALSE(address_collides(lo1, lo2));
  EXPECT_TRUE(address_collides(lo2, any4));  // horde binding 0.0.0.0:port meets every listener
  EXPECT_FALSE(address_collides(v6, any4));
  EXPECT_TRUE(address_collides(v6, any6));
  EXPECT_TRUE(address_collides(address("::ffff:127.0.0.1"), lo1));
  EXPECT_FALSE(parse_socket_address("127.0.0.256"));
  EXPECT_FALSE(parse_socket_address(""));
}

TEST(ProcPorts, SkipsReservedAndListeningPortsAndSaysHowMany) {
  fake_root root;
  lay_out_ports(root, "8080,9000-9010");
  auto avoided = ports_to_avoid(root.path(), {"127.0.0.1", "127.0.0.2"}, 1025, 65535);
  ASSERT_TRUE(avoided) << avoided.error().message;
  // Reserved: 8080 and 9000-9010 (8080 and 9000 also listen: counted once, as reserved).
  EXPECT_EQ(avoided->reserved, 12u);
  // Listening: 2024 on 0.0.0.0, 5432 on [::], 9100 on 127.0.0.2 (a source).
  // Not: 9200 (127.0.0.5), 5000 (::ffff:127.0.0.3), 631 (::1), 40000 and 41000 (not LISTEN).
  EXPECT_EQ(avoided->listening, 3u);
  std::vector<uint16_t> expected = {2024, 5432, 8080, 9100};
  for (uint16_t p = 9000; p <= 9010; ++p)
    expected.push_back(p);
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(avoided->ports, expected);
  EXPECT_EQ(avoided->ports.size(), avoided->reserved + avoided->listening);
}

TEST(ProcPorts, AWildcardSourceMeetsEveryIpv4Listener) {
  fake_root root;
  lay_out_ports(root, "");
  auto avoided = ports_to_avoid(root.path(), {"0.0.0.0"}, 1025, 65535);
  ASSERT_TRUE(avoided) << avoided.error().message;
  EXPECT_EQ(avoided->reserved, 0u);
  EXPECT_EQ(avoided->ports,
            (std::vector<uint16_t>{2024, 5000, 5432, 8080, 9000, 9100, 9200}));  // not ::1's 631
  auto v6 = ports_to_avoid(root.path(), {"::"}, 1, 65535);
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->ports, (std::vector<uint16_t>{631, 2024, 5000, 5432, 8080, 9000, 9100, 9200}));
}

TEST(ProcPorts, OnlyPortsInsideTheRangeCount) {
  fake_root root;
  lay_out_ports(root, "8080,9000-9010");
  auto avoided = ports_to_avoid(root.path(), {"127.0.0.2"}, 9005, 9100);
  ASSERT_TRUE(avoided) << avoided.error().message;
  EXPECT_EQ(avoided->reserved, 6u);   // 9005-9010
  EXPECT_EQ(avoided->listening, 1u);  // 9100
  EXPECT_EQ(avoided->ports, (std::vector<uint16_t>{9005, 9006, 9007, 9008, 9009, 9010, 9100}));
  auto none = ports_to_avoid(root.path(), {"127.0.0.2"}, 9200, 9100);  // low above high
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->ports.empty());
}

TEST(ProcPorts, MissingFilesContributeNothing) {
  fake_root root;
  root.write("proc/net/tcp", tcp_table);  // no tcp6 (IPv6 off), no reserved ports file
  auto avoided = ports_to_avoid(root.path(), {"127.0.0.1"}, 1025, 65535);
  ASSERT_TRUE(avoided) << avoided.error().message;
  EXPECT_EQ(avoided->ports, (std::vector<uint16_t>{2024, 8080}));
  fake_root empty;
  auto nothing = ports_to_avoid(empty.path(), {"127.0.0.1"}, 1025, 65535);
  ASSERT_TRUE(nothing);
  EXPECT_TRUE(nothing->ports.empty());
}

TEST(ProcPorts, BadFilesAndSourcesAreErrorsNamingThem) {
  fake_root root;
  lay_out_ports(root, "8080,9000-");
  auto bad_reserved = ports_to_avoid(root.path(), {"127.0.0.1"}, 1025, 65535);
  ASSERT_FALSE(bad_reserved);
  EXPECT_NE(bad_reserved.error().message.find("ip_local_reserved_ports"), std::string::npos);

  lay_out_ports(root, "");
  root.write("proc/net/tcp6", "garbage\n");
  auto bad_table = ports_to_avoid(root.path(), {"127.0.0.1"}, 1025, 65535);
  ASSERT_FALSE(bad_table);
  EXPECT_NE(bad_table.error().message.find("proc/net/tcp6"), std::string::npos);

  lay_out_ports(root, "");
  auto bad_source = ports_to_avoid(root.path(), {"127.0.0.1", "localhost"}, 1025, 65535);
  ASSERT_FALSE(bad_source);
  EXPECT_NE(bad_source.error().message.find("localhost"), std::string::npos);
}

TEST(ProcPorts, PortSpansListTheirPortsOnce) {
  EXPECT_EQ(ports_in_spans({{10, 12}, {11, 13}, {20, 20}}, 11, 20),
            (std::vector<uint16_t>{11, 12, 13, 20}));
  EXPECT_EQ(ports_in_spans({{65535, 65535}}, 1, 65535), (std::vector<uint16_t>{65535}));
  EXPECT_TRUE(ports_in_spans({{10, 12}}, 13, 100).empty());
}

TEST(ProcPorts, ReservedPortListsAreBounded) {
  std::string huge;
  for (int i = 0; i < 70000; ++i)
    huge += (i ? "," : "") + std::to_string(1 + i % 65535);
  EXPECT_FALSE(parse_port_list(huge));
  EXPECT_FALSE(parse_port_list(std::string(2 << 20, '1')));
  EXPECT_TRUE(parse_port_list("1,3,5-7,65535"));
}

// The real /proc: both tables parse, and every IPv4 wildcard listener in the
// range is avoided from 127.0.0.1.
TEST(ProcPorts, RealMachineTablesParse) {
  const auto tcp = read_small_file("/proc/net/tcp");
  if (!tcp) GTEST_SKIP() << "no /proc/net/tcp here";
  auto listeners = parse_listening_sockets(*tcp, false);
  ASSERT_TRUE(listeners) << listeners.error().message;
  if (const auto tcp6 = read_small_file("/proc/net/tcp6")) {
    auto v6 = parse_listening_sockets(*tcp6, true);
    EXPECT_TRUE(v6) << v6.error().message;
  }
  auto avoided = ports_to_avoid("/", {"127.0.0.1"}, 1025, 65535);
  ASSERT_TRUE(avoided) << avoided.error().message;
  for (const listening_socket& socket : *listeners) {
    if (socket.port < 1025 || !socket.address.is_any_ipv4()) continue;
    EXPECT_TRUE(std::binary_search(avoided->ports.begin(), avoided->ports.end(), socket.port))
        << socket.port;
  }
}

// 127.0.0.1:8080 (inode 23456) belongs to pid 4321, pinned to CPU 1; 9000
// (inode 23457) to a process whose fds cannot be seen.
TEST(ProcPorts, FindsTheProcessListeningOnAPort) {
  fake_root root;
  root.write("proc/net/tcp", tcp_table);
  root.write("proc/4321/comm", "uws-server\n");
  root.write("proc/4321/status", "Name:\tuws-server\nCpus_allowed:\t2\nCpus_allowed_list:\t1\n");
  root.write("proc/77/comm", "other\n");
  std::filesystem::create_directories(root.path() + "/proc/4321/fd");
  std::filesystem::create_directories(root.path() + "/proc/77/fd");
  std::filesystem::create_symlink("/dev/null", root.path() + "/proc/4321/fd/0");
  std::filesystem::create_symlink("socket:[23456]", root.path() + "/proc/4321/fd/5");
  std::filesystem::create_symlink("socket:[99]", root.path() + "/proc/77/fd/3");
  auto owner = find_listener_process(root.path(), 8080);
  ASSERT_TRUE(owner);
  EXPECT_EQ(owner->pid, 4321);
  EXPECT_EQ(owner->name, "uws-server");
  EXPECT_EQ(owner->cpus_allowed_list, "1");
  EXPECT_FALSE(find_listener_process(root.path(), 9000));  // listening, owner unseen
  EXPECT_FALSE(find_listener_process(root.path(), 1234));  // nothing listens
  // The scan is bounded: with room for one descriptor it gives up.
  EXPECT_FALSE(find_listener_process(root.path(), 8080, 0));
}

TEST(ProcPorts, ListenersCarryTheirInode) {
  auto sockets = parse_listening_sockets(tcp_table, false);
  ASSERT_TRUE(sockets);
  ASSERT_EQ(sockets->size(), 5u);
  EXPECT_EQ((*sockets)[0].inode, 1069u);
  EXPECT_EQ((*sockets)[1].inode, 23456u);
}

}  // namespace
}  // namespace horde::sysctl
