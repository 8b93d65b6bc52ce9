// Counts deliveries toward "publish to last subscriber" timing without a
// cross-shard atomic per delivery: consecutive deliveries of the same publish
// (a broadcast's thousands of subscribers on this shard) are added up here
// and handed to the shared publish_timer as one count-down, once per loop turn or
// when another publish's delivery arrives. The time recorded is the arrival
// of the delivery that completed the publish.
#pragma once

#include <cstdint>

#include "core/metrics.hh"
#include "core/publish_timer.hh"

namespace horde::core {

class last_delivery_batch {
 public:
  void add(publish_timer& timer, shard_metrics& m, uint64_t group, uint32_t seq, uint64_t send_ns,
           uint64_t now) noexcept {
    if (_count != 0 && (group != _group || seq != _seq)) flush(timer, m);
    _group = group;
    _seq = seq;
    _send_ns = send_ns;
    _now = now;
    ++_count;
  }

  void flush(publish_timer& timer, shard_metrics& m) noexcept {
    if (_count == 0) return;
    if (timer.count_down(_group, _seq, _count) && _send_ns <= _now) {
      m.latency.fanout_last.record(_now - _send_ns);
    }
    _count = 0;
  }

 private:
  uint64_t _group = 0;
  uint64_t _send_ns = 0;
  uint64_t _now = 0;
  uint32_t _seq = 0;
  uint32_t _count = 0;
};

}  // namespace horde::core
