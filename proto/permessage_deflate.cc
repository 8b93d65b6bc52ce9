#include "proto/permessage_deflate.hh"

#include <zlib.h>

#include <algorithm>
#include <new>
#include <utility>

#include "proto/http_token.hh"

namespace horde::proto {

struct deflate_stream {
  z_stream z{};
  bool compressor = false;
};

namespace {

constexpr std::string_view extension_name = "permessage-deflate";
constexpr uint8_t tail[4] = {0x00, 0x00, 0xff, 0xff};  // RFC 7692 7.2.1
constexpr size_t keep_inflated_bytes = 1u << 20;       // a larger buffer is given back after use

// One extension of the answer: ours with acceptable parameters, or not.
bool accept_extension(const deflate_offer& offer, std::string_view item,
                      deflate_params& params) noexcept {
  deflate_extension answer;
  if (!read_deflate_extension(item, answer)) return false;
  params = deflate_params{};
  if (offer.client_max_window_bits != 0)
    params.client_max_window_bits = offer.client_max_window_bits;
  if (answer.server_window_named) {
    // The server may always narrow its own window, never past what we asked.
    const uint8_t bits = answer.server_window_bits;
    if (bits == 0) return false;
    if (offer.server_max_window_bits != 0 && bits > offer.server_max_window_bits) return false;
    params.server_max_window_bits = bits;
  } else if (offer.server_max_window_bits != 0) {
    // A server that accepts our server_max_window_bits must answer it (RFC
    // 7692 7.1.2.1): without it, it may compress with a window wider than
    // the one we asked for.
    return false;
  }
  if (answer.client_window_named) {
    // Always offered (render_offer); 8 is valid but zlib cannot compress with it.
    const uint8_t bits = answer.client_window_bits;
    const uint8_t offered = offer.client_max_window_bits;
    if (bits < 9 || (offered != 0 && bits > offered)) return false;
    params.client_max_window_bits = bits;
  }
  params.server_no_context_takeover = answer.server_no_context_takeover;
  // We keep no context when we said we would not, whatever the answer says.
  params.client_no_context_takeover =
      answer.client_no_context_takeover || offer.client_no_context_takeover;
  return true;
}

}  // namespace

uint8_t parse_window_bits(std::string_view value) noexcept {
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    value = value.substr(1, value.size() - 2);
  }
  if (value == "8" || value == "9") return uint8_t(value[0] - '0');
  if (value.size() == 2 && value[0] == '1' && value[1] >= '0' && value[1] <= '5') {
    return uint8_t(10 + value[1] - '0');
  }
  return 0;
}

bool read_deflate_extension(std::string_view item, deflate_extension& out) noexcept {
  size_t semicolon = item.find(';');
  if (!equals_ignore_case(trim_spaces(item.substr(0, semicolon)), extension_name)) return false;
  out = deflate_extension{};
  static constexpr std::string_view names[] = {"server_no_context_takeover",
                                               "client_no_context_takeover",
                                               "server_max_window_bits", "client_max_window_bits"};
  unsigned seen = 0;
  while (semicolon != std::string_view::npos) {
    item.remove_prefix(semicolon + 1);
    semicolon = item.find(';');
    const std::string_view param = item.substr(0, semicolon);
    const size_t equals = param.find('=');
    const std::string_view name = trim_spaces(param.substr(0, equals));
    const bool has_value = equals != std::string_view::npos;
    const uint8_t bits = has_value ? parse_window_bits(trim_spaces(param.substr(equals + 1))) : 0;
    unsigned which = 0;
    while (which < 4 && !equals_ignore_case(name, names[which]))
      ++which;
    if (which == 4 || (seen & (1u << which)) != 0) return false;  // unknown or repeated
    seen |= 1u << which;
    if (which < 2 && has_value) return false;  // no value belongs there
    if (has_value && bits == 0) return false;  // not a window
    switch (which) {
      case 0:
        out.server_no_context_takeover = true;
        break;
      case 1:
        out.client_no_context_takeover = true;
        break;
      case 2:
        out.server_window_named = true;
        out.server_window_bits = bits;
        break;
      default:
        out.client_window_named = true;
        out.client_window_bits = bits;
        break;
    }
  }
  return true;
}

std::string render_offer(const deflate_offer& offer) {
  std::string s(extension_name);
  s += "; client_max_window_bits";
  if (offer.client_max_window_bits != 0) s += "=" + std::to_string(offer.client_max_window_bits);
  if (offer.server_max_window_bits != 0) {
    s += "; server_max_window_bits=" + std::to_string(offer.server_max_window_bits);
  }
  if (offer.client_no_context_takeover) s += "; client_no_context_takeover";
  if (offer.server_no_context_takeover) s += "; server_no_context_takeover";
  return s;
}

deflate_answer negotiate(const deflate_offer& offer, std::string_view answer,
                         deflate_params& params) noexcept {
  deflate_answer result = deflate_answer::absent;
  const bool bad = any_list_item(answer, [&](std::string_view item) {
    // A second extension, or one we did not offer, is a bad answer (7.1).
    if (result == deflate_answer::accepted || !accept_extension(offer, item, params)) return true;
    result = deflate_answer::accepted;
    return false;
  });
  if (bad) return deflate_answer::invalid;
  if (result == deflate_answer::absent && !trim_spaces(answer).empty()) {
    return deflate_answer::invalid;  // only commas and spaces
  }
  return result;
}

deflate_shard::~deflate_shard() {
  for (entry& e : _entries) {
    drop(e.compressor);
    drop(e.inflater);
  }
  for (deflate_stream*& s : _shared_compressors)
    drop(s);
  drop(_shared_inflater);
}

void deflate_shard::drop(deflate_stream*& stream) noexcept {
  if (stream == nullptr) return;
  if (stream->compressor) {
    deflateEnd(&stream->z);
  } else {
    inflateEnd(&stream->z);
  }
  delete stream;
  stream = nullptr;
  --_streams;
}

namespace {

// A raw (headerless) DEFLATE stream of 2^bits window; nullptr on out of memory.
deflate_stream* make_stream(bool compressor, int bits, int mem_level) noexcept {
  auto* s = new (std::nothrow) deflate_stream();
  if (s == nullptr) return nullptr;
  s->compressor = compressor;
  const int r = compressor ? deflateInit2(&s->z, deflate_level, Z_DEFLATED, -bits, mem_level,
                                          Z_DEFAULT_STRATEGY)
                           : inflateInit2(&s->z, -bits);
  if (r != Z_OK) {
    delete s;
    return nullptr;
  }
  return s;
}

}  // namespace

uint32_t deflate_shard::open(const deflate_params& params, bool server) noexcept {
  uint32_t handle = 0;
  try {
    if (!_free.empty()) {
      handle = _free.back();
      _free.pop_back();
    } else {
      _entries.emplace_back();
      handle = uint32_t(_entries.size());
    }
  } catch (...) {
    return 0;
  }
  entry& e = _entries[handle - 1];
  e.params = params;
  if (server) {
    // The streams below read client_* as this end's compressor and server_*
    // as the peer's: a server's own are the server_* ones.
    std::swap(e.params.client_max_window_bits, e.params.server_max_window_bits);
    std::swap(e.params.client_no_context_takeover, e.params.server_no_context_takeover);
  }
  e.in_use = true;
  ++_open;
  return handle;
}

void deflate_shard::close(uint32_t handle) noexcept {
  if (handle == 0 || handle > _entries.size() || !_entries[handle - 1].in_use) return;
  entry& e = _entries[handle - 1];
  drop(e.compressor);
  drop(e.inflater);
  e.in_use = false;
  --_open;
  try {
    _free.push_back(handle);
  } catch (...) {  // the handle is lost, nothing else
  }
}

deflate_stream* deflate_shard::compressor_for(entry& e) noexcept {
  const int bits = std::clamp<int>(e.params.client_max_window_bits, 9, 15);
  deflate_stream*& s =
      e.params.client_no_context_takeover ? _shared_compressors[bits - 9] : e.compressor;
  if (s == nullptr) {
    s = make_stream(true, bits, deflate_mem_level);
    if (s != nullptr) ++_streams;
  }
  return s;
}

deflate_stream* deflate_shard::inflater_for(entry& e) noexcept {
  // zlib compresses with 9 when asked for 8, so a window of 8 is read with 9.
  deflate_stream*& s = e.params.server_no_context_takeover ? _shared_inflater : e.inflater;
  if (s == nullptr) {
    const int bits = e.params.server_no_context_takeover
                         ? 15
                         : std::clamp<int>(e.params.server_max_window_bits, 9, 15);
    s = make_stream(false, bits, 0);
    if (s != nullptr) ++_streams;
  }
  return s;
}

std::span<const uint8_t> deflate_shard::compress(uint32_t handle,
                                                 std::span<const uint8_t> message) noexcept {
  if (handle == 0 || handle > _entries.size()) return {};
  entry& e = _entries[handle - 1];
  static constexpr uint8_t empty_message[1] = {0x00};
  if (message.empty()) {
    // RFC 7692 7.2.3.6: one 0x00 (an empty stored block once the tail is
    // back). zlib would write nothing after a flush with no new input.
    _totals.messages_compressed += 1;
    _totals.bytes_compressed += 1;
    return empty_message;
  }
  deflate_stream* s = compressor_for(e);
  if (s == nullptr) return {};
  z_stream& z = s->z;
  z.next_in = const_cast<Bytef*>(message.data());
  z.avail_in = uInt(message.size());
  size_t produced = 0;
  try {
    // A sync flush ends with an empty stored block: room for it beyond the bound.
    _compressed.resize(
        std::max<size_t>(_compressed.size(), deflateBound(&z, uLong(message.size())) + 16));
    for (;;) {
      z.next_out = _compressed.data() + produced;
      z.avail_out = uInt(_compressed.size() - produced);
      const int r = ::deflate(&z, Z_SYNC_FLUSH);
      produced = _compressed.size() - z.avail_out;
      if (r != Z_OK && r != Z_BUF_ERROR) return {};
      if (z.avail_out != 0) break;  // all input taken and flushed
      _compressed.resize(_compressed.size() * 2);
    }
  } catch (...) {
    return {};
  }
  if (e.params.client_no_context_takeover) deflateReset(&z);
  // RFC 7692 7.2.1: the flush's 0x00 0x00 0xff 0xff tail is not sent.
  if (produced >= 4 && std::equal(tail, tail + 4, _compressed.data() + produced - 4)) produced -= 4;
  _totals.messages_compressed += 1;
  _totals.bytes_before_compression += message.size();
  _totals.bytes_compressed += produced;
  return {_compressed.data(), produced};
}

inflate_status deflate_shard::inflate(uint32_t handle, std::span<const uint8_t> compressed,
                                      uint64_t max_bytes) noexcept {
  _inflated_size = 0;
  if (handle == 0 || handle > _entries.size()) return inflate_status::bad_data;
  entry& e = _entries[handle - 1];
  deflate_stream* s = inflater_for(e);
  if (s == nullptr) return inflate_status::out_of_memory;
  z_stream& z = s->z;
  z.next_in = const_cast<Bytef*>(compressed.data());
  z.avail_in = uInt(compressed.size());
  bool on_tail = false, ended = false;
  size_t produced = 0;
  inflate_status status = inflate_status::ok;
  // Each turn either grows the output (up to max_bytes + 1), takes input or ends.
  while (status == inflate_status::ok) {
    if (produced == _inflated.size()) {
      const size_t room = size_t(std::min<uint64_t>(max_bytes + 1, SIZE_MAX / 2));
      if (produced >= room) {
        status = inflate_status::too_big;
        break;
      }
      try {
        _inflated.resize(std::min(room, std::max<size_t>(4096, produced * 2)));
      } catch (...) {
        status = inflate_status::out_of_memory;
        break;
      }
    }
    z.next_out = _inflated.data() + produced;
    z.avail_out = uInt(std::min<size_t>(_inflated.size() - produced, UINT32_MAX));
    const int r = ::inflate(&z, Z_SYNC_FLUSH);
    produced = size_t(z.next_out - _inflated.data());
    if (produced > max_bytes) {
      status = inflate_status::too_big;
    } else if (r == Z_STREAM_END) {
      ended = true;  // a final block: the next message starts a new stream
      break;
    } else if (r == Z_MEM_ERROR) {
      status = inflate_status::out_of_memory;
    } else if (r != Z_OK && r != Z_BUF_ERROR) {
      status = inflate_status::bad_data;
    } else if (z.avail_out != 0) {
      if (z.avail_in != 0) {
        status = inflate_status::bad_data;  // no progress with input and room left
      } else if (on_tail) {
        break;
      } else {
        on_tail = true;
        z.next_in = const_cast<Bytef*>(tail);
        z.avail_in = 4;
      }
    }
  }
  if (ended || status != inflate_status::ok || e.params.server_no_context_takeover) {
    inflateReset(&z);
  }
  if (status != inflate_status::ok) produced = 0;
  _inflated_size = produced;
  if (status == inflate_status::ok) {
    _totals.messages_inflated += 1;
    _totals.bytes_before_inflation += compressed.size();
    _totals.bytes_inflated += produced;
  }
  return status;
}

void deflate_shard::trim() noexcept {
  if (_inflated.capacity() > keep_inflated_bytes) {
    _inflated = std::vector<uint8_t>();
    _inflated_size = 0;
  }
}

// RFC 3629 section 4: overlongs, surrogates and values past U+10FFFF refused.
bool valid_utf8(std::span<const uint8_t> bytes) noexcept {
  size_t i = 0;
  const size_t n = bytes.size();
  while (i < n) {
    const uint8_t b = bytes[i];
    if (b < 0x80) {
      ++i;
      continue;
    }
    size_t extra = 0;
    uint8_t low = 0x80, high = 0xbf;  // the second byte's range
    if (b >= 0xc2 && b <= 0xdf) {
      extra = 1;
    } else if (b >= 0xe0 && b <= 0xef) {
      extra = 2;
      if (b == 0xe0) low = 0xa0;
      if (b == 0xed) high = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      extra = 3;
      if (b == 0xf0) low = 0x90;
      if (b == 0xf4) high = 0x8f;
    } else {
      return false;
    }
    if (n - i <= extra) return false;
    if (bytes[i + 1] < low || bytes[i + 1] > high) return false;
    for (size_t k = 2; k <= extra; ++k)
      if ((bytes[i + k] & 0xc0) != 0x80) return false;
    i += extra + 1;
  }
  return true;
}

}  // namespace horde::proto
