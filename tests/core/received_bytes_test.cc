#include "core/received_bytes.hh"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace horde::core {
namespace {

// Lays out a buffer the way the kernel fills one for a multishot recvmsg:
// header, the control area of the shard's msghdr, then the payload.
std::vector<uint8_t> filled_buffer(msghdr& header, const timespec* stamp,
                                   const std::string& payload) {
  std::vector<uint8_t> buffer(sizeof(io_uring_recvmsg_out) + header.msg_controllen +
                              payload.size());
  io_uring_recvmsg_out out{};
  out.payloadlen = uint32_t(payload.size());
  if (stamp != nullptr) {
    out.controllen = uint32_t(CMSG_SPACE(sizeof(timespec)));
    cmsghdr c{};
    c.cmsg_level = SOL_SOCKET;
    c.cmsg_type = SCM_TIMESTAMPNS;
    c.cmsg_len = CMSG_LEN(sizeof(timespec));
    uint8_t* control = buffer.data() + sizeof out;
    std::memcpy(control, &c, sizeof c);
    std::memcpy(control + (CMSG_DATA(&c) - reinterpret_cast<unsigned char*>(&c)), stamp,
                sizeof *stamp);
  }
  std::memcpy(buffer.data(), &out, sizeof out);
  std::memcpy(buffer.data() + sizeof out + header.msg_controllen, payload.data(), payload.size());
  return buffer;
}

TEST(received_bytes, payload_and_kernel_stamp_on_the_monotonic_clock) {
  msghdr header = timestamped_receive_header();
  const timespec wall{1'700'000'000, 500};
  const int64_t offset = 1'600'000'000'000'000'000;  // realtime - monotonic
  auto buffer = filled_buffer(header, &wall, "echo");
  const uint64_t now = 200'000'000'000'000'000;
  const auto r = parse_received(buffer, int(buffer.size()), header, offset, now);
  ASSERT_TRUE(r.valid);
  EXPECT_FALSE(r.end_of_stream);
  EXPECT_EQ(std::string(r.payload.begin(), r.payload.end()), "echo");
  EXPECT_EQ(r.received_ns, 1'700'000'000'000'000'500ull - uint64_t(offset));
}

TEST(received_bytes, a_stamp_after_now_counts_as_now) {
  msghdr header = timestamped_receive_header();
  const timespec wall{100, 0};
  auto buffer = filled_buffer(header, &wall, "x");
  const auto r = parse_received(buffer, int(buffer.size()), header, 0, 50'000'000'000);
  EXPECT_EQ(r.received_ns, 50'000'000'000u);
}

TEST(received_bytes, no_stamp_leaves_the_time_to_the_caller) {
  msghdr header = timestamped_receive_header();
  auto buffer = filled_buffer(header, nullptr, "abc");
  const auto r = parse_received(buffer, int(buffer.size()), header, 0, 1);
  ASSERT_TRUE(r.valid);
  EXPECT_EQ(r.received_ns, 0u);
  EXPECT_EQ(r.payload.size(), 3u);
}

TEST(received_bytes, no_payload_is_the_end_of_the_stream) {
  msghdr header = timestamped_receive_header();
  auto buffer = filled_buffer(header, nullptr, "");
  const auto r = parse_received(buffer, int(buffer.size()), header, 0, 1);
  ASSERT_TRUE(r.valid);
  EXPECT_TRUE(r.end_of_stream);
}

TEST(received_bytes, a_buffer_shorter_than_its_header_is_refused) {
  msghdr header = timestamped_receive_header();
  auto buffer = filled_buffer(header, nullptr, "abc");
  for (int used : {-1, 0, 1, int(sizeof(io_uring_recvmsg_out)), int(buffer.size()) + 1}) {
    EXPECT_FALSE(parse_received(buffer, used, header, 0, 1).valid) << used;
  }
}

}  // namespace
}  // namespace horde::core
