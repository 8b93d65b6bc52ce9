#include "core/engine.hh"

#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "affinity/cpu_set.hh"
#include "core/client_shard.hh"
#include "core/clock.hh"
#include "core/shard_heap.hh"

namespace horde::core {
namespace {

int cpu_for(const std::vector<int>& cpus, uint32_t shard) {
  return cpus.empty() ? -1 : cpus[shard % cpus.size()];
}

}  // namespace

client_engine::client_engine(const client_plan& plan) : _plan(plan) {
  const size_t targets = std::max<size_t>(plan.targets.size(), 1);
  auto made = [&] {
    auto m = std::make_unique<shard_metrics>();
    m->declare(plan.named.counters.size(), plan.named.histograms.size());
    return m;
  };
  for (uint32_t i = 0; i < plan.shards; ++i) {
    _metrics.push_back(made());
    _by_target.push_back({_metrics.back().get()});
    for (size_t t = 1; t < targets; ++t) {
      _more_targets.push_back(made());
      _by_target.back().push_back(_more_targets.back().get());
    }
  }
  if (plan.pubsub.shared != nullptr) {
    plan.pubsub.shared->metrics.clear();
    for (const auto& m : _metrics)
      plan.pubsub.shared->metrics.push_back(m.get());
  }
}

client_engine::~client_engine() {
  request_abort();
  go(now_ns());
  join();
}

void client_engine::start() {
  _running.store(int(_plan.shards), std::memory_order_release);
  for (uint32_t i = 0; i < _plan.shards; ++i) {
    _threads.emplace_back([this, i] {
      std::string failure;
      const int cpu = cpu_for(_plan.cpus, i);
      if (cpu >= 0) {
        if (auto pinned = affinity::pin_current_thread(cpu); !pinned)
          failure = pinned.error().message;
      }
      if (failure.empty()) {
        shard_heap heap;  // after pinning: its pages are first touched here
        client_shard shard(_plan, i, _by_target[i], _control);
        if (auto ran = shard.run(); !ran) failure = ran.error().message;
      } else {
        _control.ready.fetch_add(1, std::memory_order_acq_rel);  // never set up: do not wait for it
      }
      if (!failure.empty()) {
        std::lock_guard<std::mutex> guard(_errors_lock);
        _errors.push_back("client shard " + std::to_string(i) + ": " + failure);
      }
      _running.fetch_sub(1, std::memory_order_acq_rel);
    });
  }
}

bool client_engine::wait_ready(uint64_t timeout_ns) const {
  const uint64_t until = now_ns() + timeout_ns;
  while (_control.ready.load(std::memory_order_acquire) < _plan.shards) {
    if (now_ns() >= until) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

std::vector<uint64_t> client_engine::loop_turns() const {
  std::vector<uint64_t> turns;
  for (const auto& shard : _metrics)
    turns.push_back(shard->counters.loop_turns.get());
  return turns;
}

void client_engine::snapshot(metrics_snapshot& out) const {
  for (const auto& shard : _by_target)
    for (const shard_metrics* m : shard)
      out.add_shard(*m);
}

void client_engine::snapshot_target(size_t target, metrics_snapshot& out) const {
  for (const auto& shard : _by_target)
    if (target < shard.size()) out.add_shard(*shard[target]);
}

std::vector<std::string> client_engine::join() {
  for (auto& thread : _threads) {
    if (thread.joinable()) thread.join();
  }
  std::lock_guard<std::mutex> guard(_errors_lock);
  return _errors;
}

server_engine::~server_engine() {
  stop();
}

result<uint16_t> server_engine::start(const server_plan& plan) {
  _plan = plan;
  endpoint where = plan.listen;
  uint16_t port = 0;
  for (uint32_t i = 0; i < plan.shards; ++i) {
    auto fd = open_listener(where, plan.backlog);
    if (!fd) {
      stop();
      return make_error("cannot listen: " + fd.error().message);
    }
    _listeners.push_back(*fd);
    if (i == 0) {
      // Every further shard binds the port the first one got (SO_REUSEPORT).
      port = listener_port(*fd);
      where.storage.sin6_port = htons(port);
    }
  }
  for (uint32_t i = 0; i < plan.shards; ++i)
    _counters.push_back(std::make_unique<server_counters>());
  // The publish rings between shards and their wake-up fds. Every shard
  // thread holds a reference, so the mesh (and the ring fds it keeps open)
  // goes only after the last shard has stopped posting to them.
  auto mesh = std::make_shared<server_mesh>(plan.shards, plan.mode == server_mode::echo);
  for (uint32_t i = 0; i < plan.shards; ++i) {
    _threads.emplace_back([this, i, mesh] {
      std::string failure;
      const int cpu = cpu_for(_plan.cpus, i);
      if (cpu >= 0) {
        if (auto pinned = affinity::pin_current_thread(cpu); !pinned)
          failure = pinned.error().message;
      }
      if (failure.empty()) {
        shard_heap heap;
        server_shard shard(_plan, i, _listeners[i], *_counters[i], *mesh, _stop);
        if (auto ran = shard.run(); !ran) failure = ran.error().message;
      }
      if (!failure.empty()) {
        std::lock_guard<std::mutex> guard(_errors_lock);
        _errors.push_back("server shard " + std::to_string(i) + ": " + failure);
      }
    });
  }
  return port;
}

void server_engine::stop() {
  _stop.store(true, std::memory_order_relaxed);
  for (auto& thread : _threads) {
    if (thread.joinable()) thread.join();
  }
  _threads.clear();
  for (int fd : _listeners)
    close(fd);
  _listeners.clear();
}

server_totals server_engine::totals() const {
  server_totals t;
  auto get = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  for (const auto& c : _counters) {
    t.accepted += get(c->accepted);
    t.upgraded += get(c->upgraded);
    t.open_now += get(c->open_now);
    t.rejected += get(c->rejected);
    t.accept_errors += get(c->accept_errors);
    t.messages_in += get(c->messages_in);
    t.messages_out += get(c->messages_out);
    t.protocol_errors += get(c->protocol_errors);
    t.subscribes += get(c->subscribes);
    t.unsubscribes += get(c->unsubscribes);
    t.publishes += get(c->publishes);
    t.deliveries += get(c->deliveries);
    t.deliveries_dropped += get(c->deliveries_dropped);
    t.deliveries_duplicated += get(c->deliveries_duplicated);
    t.slow_consumers += get(c->slow_consumers);
    t.command_errors += get(c->command_errors);
    t.groups += get(c->groups);
    t.subscriptions += get(c->subscriptions);
    t.tls_full += get(c->tls_full);
    t.tls_resumed += get(c->tls_resumed);
    t.tls_failed += get(c->tls_failed);
    t.sessions_issued += get(c->sessions_issued);
    t.sessions_refused += get(c->sessions_refused);
    t.upgrades_unauthorized += get(c->upgrades_unauthorized);
    t.requests_not_found += get(c->requests_not_found);
    t.http_publishes += get(c->http_publishes);
    t.http_publishes_refused += get(c->http_publishes_refused);
    t.mass_dropped += get(c->mass_dropped);
    t.compressed_upgrades += get(c->compressed_upgrades);
    t.bytes_before_compression += get(c->bytes_before_compression);
    t.bytes_compressed += get(c->bytes_compressed);
    t.bytes_before_inflation += get(c->bytes_before_inflation);
    t.bytes_inflated += get(c->bytes_inflated);
    tls_values shard_tls;
    c->tls_failures.read_into(shard_tls);
    t.tls_failures.add(shard_tls);
  }
  return t;
}

std::vector<std::string> server_engine::errors() {
  std::lock_guard<std::mutex> guard(_errors_lock);
  return _errors;
}

}  // namespace horde::core
