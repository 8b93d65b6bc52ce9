// Binary message templates typed on a command line or in a plan: `hex:` and
// `base64:` text decoded to the bytes a binary WebSocket message carries, and
// the check that a stamp written into such a payload fits. Cold path: decoded
// once, errors name the 1-based column of the bad character in the spec.
//
//   hex:0a0b ff 00            whitespace between bytes (not inside one)
//   base64:CgsM/w==           standard alphabet, padding optional, whitespace
//                             anywhere (wrapped lines)
//   text:hex:not-a-prefix     the text after "text:", as is
//   anything else             the text as is
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/result.hh"

namespace horde::proto {

// The bytes a payload spec stands for; an error for bad hex or base64.
result<std::string> decode_payload(std::string_view spec);

// Fails unless stamp_size bytes at offset fit inside a payload_size-byte
// payload; the message says which size or offset would fit.
result<void> check_stamp_offset(size_t payload_size, size_t offset, size_t stamp_size);

}  // namespace horde::proto
