// permessage-deflate (RFC 7692) for the client: the offer it puts in
// Sec-WebSocket-Extensions, the check of the server's answer against that
// offer (7.1), and the codec: raw DEFLATE with each message ending in an
// empty stored block whose 0x00 0x00 0xff 0xff tail is cut before sending
// and put back before inflating (7.2.1, 7.2.2). No sockets; zlib only.
//
// Memory is the cost that matters: zlib's compressor holds
// (1 << (window + 2)) + (1 << (mem_level + 9)) bytes, its inflater
// (1 << window) + ~7 KiB. With context takeover each connection keeps its
// own for its whole life; without it (client_no_context_takeover for what
// we send, server_no_context_takeover for what we receive) a stream is reset
// at every message, so one per shard serves every connection (deflate_shard).
// A connection's streams are made on its first message in each direction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace horde::proto {

// What the client asks for (RFC 7692 7.1). Window bits 0: the parameter is
// not sent with a value (client_max_window_bits then goes alone: "I can
// take whatever you choose", server_max_window_bits is left out).
struct deflate_offer {
  uint8_t client_max_window_bits = 0;  // 9..15, or 0
  uint8_t server_max_window_bits = 0;  // 9..15, or 0
  bool client_no_context_takeover = false;
  bool server_no_context_takeover = false;
};

// What was agreed: the windows and whether each side keeps its context.
struct deflate_params {
  uint8_t client_max_window_bits = 15;  // our compressor
  uint8_t server_max_window_bits = 15;  // the server's compressor, so our inflater
  bool client_no_context_takeover = false;
  bool server_no_context_takeover = false;
};

// A window-bits value (RFC 7692 7.1.2.1): 1*DIGIT in 8..15, no leading zero,
// optionally quoted. 0 when it is not one.
uint8_t parse_window_bits(std::string_view value) noexcept;

// One permessage-deflate item of a Sec-WebSocket-Extensions list, offer or
// answer, as written (RFC 7692 7.1): which parameters it names and the
// windows' values (0: named without a value).
struct deflate_extension {
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  bool server_window_named = false;
  bool client_window_named = false;
  uint8_t server_window_bits = 0;
  uint8_t client_window_bits = 0;
};

// Reads "permessage-deflate; p1; p2=v": false when the item names another
// extension, or a parameter is unknown, repeated, has a value where none
// belongs (the two no_context_takeover), or a window value that is not one.
// What each side then allows is the caller's (negotiate, accept_deflate_offer).
bool read_deflate_extension(std::string_view item, deflate_extension& out) noexcept;

// "permessage-deflate; client_max_window_bits=12; ..." as the offer's header value.
std::string render_offer(const deflate_offer& offer);

enum class deflate_answer : uint8_t {
  absent,    // the value names no extension (the server declined)
  accepted,  // permessage-deflate with valid parameters: see params
  invalid,   // another extension, a parameter we did not offer, a bad or repeated value
};

// Checks one Sec-WebSocket-Extensions value from the 101 against the offer
// (RFC 7692 5, 7.1.1, 7.1.2). Window bits 8 is refused: zlib's raw deflate
// cannot compress with a 256-byte window, so we could not honour it.
deflate_answer negotiate(const deflate_offer& offer, std::string_view answer,
                         deflate_params& params) noexcept;

enum class inflate_status : uint8_t { ok, too_big, bad_data, out_of_memory };

struct deflate_stream;  // a zlib z_stream (compressor or inflater) with its window

// Per shard (one thread): the streams shared by connections without context
// takeover, every connection's own, and the buffers a message is coded in.
class deflate_shard {
 public:
  deflate_shard() = default;
  ~deflate_shard();
  deflate_shard(const deflate_shard&) = delete;
  deflate_shard& operator=(const deflate_shard&) = delete;

  // A connection's state: its parameters and its own streams (made on first
  // use). server: this end is the server, so it compresses with the server_*
  // parameters and inflates with the client_* ones. Returns a handle > 0, or
  // 0 when memory ran out.
  uint32_t open(const deflate_params& params, bool server = false) noexcept;
  // Frees the handle's streams; the handle may be given out again.
  void close(uint32_t handle) noexcept;

  // Compresses one message for `handle`; the bytes stay valid until the next
  // call. Empty on out of memory.
  std::span<const uint8_t> compress(uint32_t handle, std::span<const uint8_t> message) noexcept;
  // Inflates one message for `handle` into inflated() (valid until the next
  // call): too_big when it would pass max_bytes (a decompression bomb is
  // stopped there, never buffered), bad_data when zlib refuses it.
  inflate_status inflate(uint32_t handle, std::span<const uint8_t> compressed,
                         uint64_t max_bytes) noexcept;
  std::span<const uint8_t> inflated() const noexcept { return {_inflated.data(), _inflated_size}; }
  // After a large message: gives back an inflate buffer over 1 MiB, so a
  // shard keeps its peak only while such messages come.
  void trim() noexcept;

  size_t open_count() const noexcept { return _open; }
  // Streams alive now: the shard's shared ones and connections' own.
  size_t streams() const noexcept { return _streams; }

  // What this shard's connections sent and received through the codec.
  struct totals {
    uint64_t messages_compressed = 0;
    uint64_t bytes_before_compression = 0;
    uint64_t bytes_compressed = 0;
    uint64_t messages_inflated = 0;
    uint64_t bytes_before_inflation = 0;
    uint64_t bytes_inflated = 0;
  };
  const totals& counted() const noexcept { return _totals; }

 private:
  struct entry {
    deflate_params params;  // as this end sees them: client_* are its own compressor's
    deflate_stream* compressor = nullptr;  // own, with context takeover
    deflate_stream* inflater = nullptr;
    bool in_use = false;
  };
  deflate_stream* compressor_for(entry& e) noexcept;
  deflate_stream* inflater_for(entry& e) noexcept;
  void drop(deflate_stream*& stream) noexcept;

  std::vector<entry> _entries;  // handle - 1
  std::vector<uint32_t> _free;  // handles to give out again
  // Shared compressors, one per window size (index: bits - 9), and one
  // inflater with the largest window (any sender's window fits in it).
  deflate_stream* _shared_compressors[7] = {};
  deflate_stream* _shared_inflater = nullptr;
  std::vector<uint8_t> _compressed;
  std::vector<uint8_t> _inflated;
  size_t _inflated_size = 0;
  size_t _open = 0;
  size_t _streams = 0;
  totals _totals;
};

// zlib's settings for our compressor (docs/decisions.md): level 1, speed
// over ratio, as a load generator's CPU is its measuring instrument; memory
// level 5 (a 16 KiB hash table instead of zlib's default 128 KiB): 144 KiB a
// connection at window 15, not 256 KiB, and a shared compressor's reset
// after each message clears 16 KiB, not 128 KiB (8.4 us a 1 KiB message
// there and back instead of 10.7, bench/primitives_bench).
inline constexpr int deflate_level = 1;
inline constexpr int deflate_mem_level = 5;

// Whether bytes are UTF-8 (RFC 3629): an inflated text message is checked
// here, since wslay cannot check compressed payloads.
bool valid_utf8(std::span<const uint8_t> bytes) noexcept;

}  // namespace horde::proto
