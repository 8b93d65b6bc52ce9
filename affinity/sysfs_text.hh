// Reading the one-value text files of /proc and /sys, shared by the topology
// reader and the NIC advisor.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace horde::affinity {

// The file's text with surrounding whitespace removed; nullopt when it cannot
// be opened (absent, or no permission: both mean "the kernel does not say").
std::optional<std::string> read_text(const std::filesystem::path& path);

}  // namespace horde::affinity
