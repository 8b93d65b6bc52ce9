// The stamp: a small fixed header at the front of every measured message, so
// a delivery can be matched to its sender, its sequence and its *scheduled*
// send time without any per-message state on the receiving side.
//
// Two carriers of the same 32 bytes:
//  - binary: the raw bytes at offset 0 of a binary message;
//  - text:   "hs1." + base64url(32 bytes), 47 printable characters that fit in
//            any application's text format (a JSON string field, a chat body),
//            found anywhere in a delivered message by find_stamp_text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace horde::proto {

struct stamp {
  uint32_t conn_id = 0;  // the sending connection
  uint64_t seq = 0;      // per-connection (or per publisher and group) sequence
  uint64_t group = 0;    // pub/sub group id; 0 for echo traffic
  uint64_t send_ns = 0;  // the *scheduled* send time, CLOCK_MONOTONIC ns

  friend bool operator==(const stamp&, const stamp&) = default;
};

inline constexpr size_t stamp_size = 32;
inline constexpr char stamp_magic[4] = {'H', 'R', 'D', '1'};
inline constexpr size_t stamp_text_size = 47;
inline constexpr std::string_view stamp_text_prefix = "hs1.";

// Writes exactly stamp_size bytes.
void write_stamp(uint8_t* out, const stamp& s) noexcept;
// Reads a stamp from the first stamp_size bytes; nullopt when too short or
// the magic is missing.
std::optional<stamp> read_stamp(std::span<const uint8_t> bytes) noexcept;

// Writes exactly stamp_text_size characters (no terminator).
void write_stamp_text(char* out, const stamp& s) noexcept;
// Reads a text stamp that starts exactly at text[0].
std::optional<stamp> read_stamp_text(std::string_view text) noexcept;
// Finds the first valid text stamp anywhere in text (e.g. inside JSON).
std::optional<stamp> find_stamp_text(std::string_view text) noexcept;

// A binary payload: the stamp, then a fixed filler pattern. A body shorter
// than a stamp gets only the filler (its deliveries count as unstamped).
void fill_payload(std::span<uint8_t> body, const stamp& s) noexcept;
// True when everything after the stamp is the filler fill_payload wrote: an
// echo the server changed (corrupted) is told apart from one it kept.
bool filler_intact(std::span<const uint8_t> body) noexcept;

// A text payload: the text stamp, then 'x' up to the size.
void fill_text_payload(std::span<uint8_t> body, const stamp& s) noexcept;
bool text_filler_intact(std::span<const uint8_t> body) noexcept;

}  // namespace horde::proto
