#include "affinity/sysfs_text.hh"

#include <cctype>
#include <fstream>
#include <iterator>

namespace horde::affinity {

std::optional<std::string> read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) return std::nullopt;
  const auto is_space = [](unsigned char c) { return std::isspace(c) != 0; };
  while (!text.empty() && is_space(text.back()))
    text.pop_back();
  size_t first = 0;
  while (first < text.size() && is_space(text[first]))
    ++first;
  return text.substr(first);
}

}  // namespace horde::affinity
