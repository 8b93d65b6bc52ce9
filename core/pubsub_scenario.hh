// Pub/sub as a scenario (docs/pubsub.md): each connection subscribes to its
// groups when it opens; once every connection of every shard is subscribed
// (or given up), publishing connections publish on an open-loop schedule and
// every delivery is accounted by the I/O-free pubsub_client. Churn (leave and
// rejoin) and the start of publishing are work of the whole shard.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/http_publish.hh"
#include "core/plan.hh"
#include "core/pubsub_client.hh"
#include "core/scenario.hh"
#include "proto/mask_source.hh"

namespace horde::core {

class pubsub_scenario final : public scenario, public http_publish_source {
 public:
  pubsub_scenario(const client_plan& plan, shard_metrics& metrics, proto::mask_source& random,
                  std::span<const uint32_t> conn_ids, uint64_t end_ns);

  void on_open(uint32_t slot, scenario_port& port, uint64_t now) noexcept override;
  void on_message(uint32_t slot, scenario_port& port, proto::ws_opcode opcode,
                  std::span<const uint8_t> body, uint64_t received_ns) noexcept override;
  uint64_t next_due_ns(uint32_t slot) const noexcept override;
  void on_due(uint32_t slot, scenario_port& port, uint64_t now) noexcept override;
  void on_gone(uint32_t slot) noexcept override;
  uint64_t shard_due_ns() const noexcept override;
  void on_shard_due(shard_access& shard, uint64_t now) noexcept override;
  void stop_sending() noexcept override { _sending = false; }
  // Drained: every delivery arrived, and no HTTP publish waits for its
  // answer (its deliveries may come before it: cutting it would count a
  // delivered publish refused).
  bool all_answered() const noexcept override {
    return _http_in_flight == 0 && _client.all_delivered();
  }

  // --publish-http: the publisher slots' requests (core/client_publisher.cc).
  uint64_t next_publish_ns(uint32_t slot) const noexcept override {
    return _sending ? _next_publish_ns[slot] : 0;
  }
  bool take_publish(uint32_t slot, uint64_t now, std::string& out) noexcept override;
  void publish_answered(uint32_t slot, int status, uint64_t now) noexcept override;

 private:
  bool send_text(scenario_port& port, std::string_view text) noexcept;
  void mark_subscribed(uint32_t slot) noexcept;
  void publish_due(uint32_t slot, scenario_port& port, uint64_t now) noexcept;
  void start_publishing(shard_access& shard, uint64_t now) noexcept;
  void churn(shard_access& shard, uint64_t now) noexcept;
  bool http_publisher(uint32_t slot) const noexcept {
    return _plan.pubsub.http.enabled() && _ids[slot] < _plan.pubsub.layout.publishers;
  }
  void count_named(uint32_t metric) noexcept {
    if (metric != no_metric) _metrics.counters.named[metric].add();
  }

  const client_plan& _plan;
  shard_metrics& _metrics;
  proto::mask_source& _random;
  std::span<const uint32_t> _ids;
  const uint64_t _end_ns;
  pubsub_client _client;
  std::vector<uint64_t> _next_publish_ns;  // per slot; 0: none scheduled
  std::vector<uint8_t> _subscribed;        // per slot: in force, given up, or gone
  std::vector<uint32_t> _rejoins;          // slots whose leave was acknowledged
  // --publish-http: per slot, the publish whose request is in flight.
  struct http_in_flight {
    pubsub_client::published publish;
    uint64_t scheduled_ns = 0;  // 0: none in flight
    uint64_t answered_ns = 0;   // the last answer: a publish due before waited for it
  };
  std::vector<http_in_flight> _http;
  uint32_t _http_in_flight = 0;
  uint64_t _subscribed_count = 0;
  bool _shard_subscribed = false;  // told the other shards
  bool _publishing = false;
  bool _sending = true;
};

}  // namespace horde::core
