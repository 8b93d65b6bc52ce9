// The JSON result reaches disk whole or not at all: it is written to a
// temporary file beside the target and renamed over it, so a full disk or a
// crash mid-write never leaves a truncated result that a later merge reads.
#pragma once

#include <string>

#include "base/result.hh"

namespace horde::app {

// Before the run: can a file be created where `path` will go? (Creates and
// removes the temporary file; the error names the path and the errno.)
result<void> check_writable(const std::string& path);

// Writes `text` to path.tmp, flushes it to disk, renames it over `path`.
result<void> write_whole(const std::string& path, const std::string& text);

}  // namespace horde::app
