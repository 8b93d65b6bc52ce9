#include "proto/stamp.hh"

#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <vector>

#include "tests/support/guard_page.hh"

namespace horde::proto {
namespace {

const stamp sample{0xdeadbeef, 0x0102030405060708ull, 42, 1'700'000'000'123'456'789ull};

TEST(stamp, binary_round_trip_is_exact) {
  uint8_t raw[stamp_size];
  write_stamp(raw, sample);
  EXPECT_EQ(std::string_view(reinterpret_cast<char*>(raw), 4), "HRD1");
  auto back = read_stamp(raw);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, sample);
}

TEST(stamp, binary_reader_rejects_short_or_foreign_bytes_without_overreading) {
  test::guard_page_buffer guard(64);
  uint8_t raw[stamp_size];
  write_stamp(raw, sample);
  for (size_t n = 0; n < stamp_size; ++n) {
    EXPECT_FALSE(read_stamp(guard.place(std::span<const uint8_t>(raw, n)))) << n;
  }
  EXPECT_TRUE(read_stamp(guard.place(std::span<const uint8_t>(raw, stamp_size))));
  raw[0] = 'X';
  EXPECT_FALSE(read_stamp(raw));
}

TEST(stamp, text_form_is_printable_and_round_trips) {
  char text[stamp_text_size];
  write_stamp_text(text, sample);
  std::string_view view(text, sizeof text);
  EXPECT_TRUE(view.starts_with("hs1."));
  for (char ch : view) {
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.')
        << ch;
  }
  auto back = read_stamp_text(view);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, sample);
}

TEST(stamp, text_stamp_is_found_inside_an_applications_json) {
  char text[stamp_text_size];
  write_stamp_text(text, sample);
  const std::string json = R"({"type":"message","room":"room-7","body":"hs1.bogus hs1.)" +
                           std::string(text + 4, sizeof text - 4) + R"( trailing chat text"})";
  test::guard_page_buffer guard(json.size());
  auto back = find_stamp_text(guard.place(json));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, sample);
}

TEST(stamp, truncated_or_corrupted_text_is_not_a_stamp) {
  char text[stamp_text_size];
  write_stamp_text(text, sample);
  test::guard_page_buffer guard(128);
  for (size_t n = 0; n < stamp_text_size; ++n) {
    EXPECT_FALSE(find_stamp_text(guard.place(std::string_view(text, n)))) << n;
  }
  std::string corrupt(text, sizeof text);
  corrupt[10] = '!';
  EXPECT_FALSE(find_stamp_text(corrupt));
}

TEST(stamp, every_field_extreme_survives_both_carriers) {
  const std::vector<stamp> cases = {{}, {~0u, ~0ull, ~0ull, ~0ull}, {1, 0, ~0ull, 1}};
  for (const auto& s : cases) {
    uint8_t raw[stamp_size];
    write_stamp(raw, s);
    EXPECT_EQ(read_stamp(raw), s);
    char text[stamp_text_size];
    write_stamp_text(text, s);
    EXPECT_EQ(read_stamp_text(std::string_view(text, sizeof text)), s);
  }
}

TEST(stamp, payload_carries_the_stamp_then_filler) {
  std::vector<uint8_t> body(100);
  fill_payload(body, sample);
  EXPECT_EQ(read_stamp(body), sample);
  EXPECT_NE(body[99], 0);
  std::vector<uint8_t> tiny(8);
  fill_payload(tiny, sample);
  EXPECT_FALSE(read_stamp(tiny));
}

TEST(Stamp, FillerIsCheckedByteForByte) {
  for (size_t size : {size_t(16), size_t(32), size_t(64), size_t(65520 + 100), size_t(200000)}) {
    std::vector<uint8_t> body(size);
    fill_payload(body, stamp{7, 8, 0, 9});
    EXPECT_TRUE(filler_intact(body)) << size;
    if (size > stamp_size) {
      for (size_t at : {size_t(stamp_size), size / 2, size - 1}) {
        auto changed = body;
        changed[at] ^= 0x20;
        EXPECT_FALSE(filler_intact(changed)) << size << " at " << at;
      }
    }
  }
}

TEST(Stamp, TextFillerIsChecked) {
  std::vector<uint8_t> body(100);
  fill_text_payload(body, stamp{1, 2, 0, 3});
  EXPECT_TRUE(read_stamp_text(std::string_view(reinterpret_cast<char*>(body.data()), body.size())));
  EXPECT_TRUE(text_filler_intact(body));
  body[90] = 'y';
  EXPECT_FALSE(text_filler_intact(body));
}

}  // namespace
}  // namespace horde::proto
