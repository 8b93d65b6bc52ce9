// Status words shared by every I/O-free parser and transport in proto/.
#pragma once

#include <cstdint>

namespace horde::proto {

// An incremental parser's answer to one feed: a whole unit was read, more
// bytes are needed, or the input can never become valid.
enum class parse_status : uint8_t { done, need_more, invalid };

}  // namespace horde::proto
