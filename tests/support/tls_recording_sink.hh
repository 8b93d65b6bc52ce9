// A proto::tls_sink that keeps what a session wrote (ciphertext, to carry to
// the peer by hand) and what it decrypted, for the in-memory TLS tests.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "proto/tls_session.hh"

namespace horde::test {

inline std::span<const uint8_t> as_bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

struct recording_sink final : proto::tls_sink {
  std::vector<uint8_t> wire;
  std::string plaintext;
  size_t largest_plaintext_call = 0;

  void on_plaintext(std::span<const uint8_t> data) override {
    plaintext.append(data.begin(), data.end());
    largest_plaintext_call = std::max(largest_plaintext_call, data.size());
  }
  void write(std::span<const uint8_t> data) override {
    wire.insert(wire.end(), data.begin(), data.end());
  }
  // The ciphertext written so far, leaving none.
  std::vector<uint8_t> take_wire() {
    std::vector<uint8_t> out;
    out.swap(wire);
    return out;
  }
};

}  // namespace horde::test
