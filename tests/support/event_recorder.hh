// A ws_sink for tests that keeps every event a session reports (messages,
// pongs, closes) for later checks; where the session's output bytes go is
// left to the test (a buffer, a socket).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proto/ws_session.hh"

namespace horde::test {

struct event_recorder : proto::ws_sink {
  std::vector<std::pair<proto::ws_opcode, std::string>> messages;
  std::vector<std::string> pongs;
  std::vector<std::pair<uint16_t, std::string>> closes;

  void on_message(proto::ws_opcode op, std::span<const uint8_t> body) override {
    messages.emplace_back(op, std::string(body.begin(), body.end()));
  }
  void on_pong(std::span<const uint8_t> body) override {
    pongs.emplace_back(body.begin(), body.end());
  }
  void on_close(uint16_t code, std::string_view reason) override {
    closes.emplace_back(code, reason);
  }

 protected:
  ~event_recorder() = default;
};

}  // namespace horde::test
