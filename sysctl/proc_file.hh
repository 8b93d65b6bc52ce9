// Reading and writing the small text files of /proc and /sys, under a root
// directory given by the caller ("/" in production, a fake tree in tests), so
// nothing in sysctl/ hard-codes an absolute path.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hh"

namespace horde::sysctl {

// <root>/<relative>, with exactly one '/' between them ("/" + "proc/x" is "/proc/x").
std::string under_root(const std::string& root, std::string_view relative);

// The whole file, or nullopt when it is absent or unreadable (a missing
// sysctl is normal: a module not loaded, a kernel built without it).
std::optional<std::string> read_small_file(const std::string& path);

// Replaces the file's content; never creates it (a /proc/sys knob that is not
// there cannot be set by creating a file). The error names the path and errno.
result<void> write_small_file(const std::string& path, std::string_view text);

// Whitespace-separated unsigned decimals ("32768\t60999\n"); nullopt if any
// token is not a number or there are none.
std::optional<std::vector<uint64_t>> parse_numbers(std::string_view text);

}  // namespace horde::sysctl
