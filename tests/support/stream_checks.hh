// What a stream run (a `requests:` entry with `stream: true`) must show when
// the server finished every stream it was sent: each one completed, none cut
// short, timed out or in error, every frame counted once, the first frame
// and every gap timed. Shared by the protocol tests (graphql-ws, Socket.IO).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "tests/support/horde_cli.hh"

namespace horde::test {

// The streams of request `name` that completed (all those sent), each with
// `frames` frames, the end frame included; at least `min_sent` sent.
inline uint64_t expect_every_stream_whole(const run_outcome& run, const std::string& name,
                                          uint64_t frames, uint64_t min_sent) {
  const auto& counters = run.result["scenario"]["counters"];
  const auto& latency = run.result["scenario"]["latency"];
  const std::string key = "stream." + name + ".";
  EXPECT_EQ(run.result["connections"]["failed"], 0) << run.result["connections"].dump();
  const uint64_t sent = counters.value(key + "sent", uint64_t(0));
  const uint64_t completed = counters.value(key + "completed", uint64_t(0));
  EXPECT_GT(sent, min_sent) << counters.dump();
  EXPECT_EQ(completed, sent) << counters.dump();
  for (const char* none : {"cut", "timeouts", "errors"})
    EXPECT_EQ(counters.value(key + none, uint64_t(0)), 0u) << none << " " << counters.dump();
  EXPECT_EQ(counters.value("replies.unmatched", uint64_t(0)), 0u);
  EXPECT_EQ(counters.value(key + "frames", uint64_t(0)), frames * completed) << counters.dump();
  EXPECT_EQ(latency[key + "first_frame"]["count"], completed);
  EXPECT_EQ(latency[key + "frame_gap"]["count"], (frames - 1) * completed);
  return completed;
}

}  // namespace horde::test
