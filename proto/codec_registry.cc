// The codecs --protocol can name. A new protocol adds its codec_info here
// (and its file and tests): nothing else in horde lists protocols.
#include <vector>

#include "proto/codec.hh"

namespace horde::proto {

namespace {

const std::vector<codec_info>& registry() {
  static const std::vector<codec_info> all = {};
  return all;
}

}  // namespace

std::span<const codec_info> codecs() noexcept { return registry(); }

const codec_info* find_codec(std::string_view name) noexcept {
  for (const codec_info& info : registry())
    if (info.name == name) return &info;
  return nullptr;
}

}  // namespace horde::proto
