// The client shard's loop: it sets up its ring and buffers, waits for the
// run's start, then turns: fire due timers, launch connections at the plan's
// pace, let the scenario do shard-wide work, advance the run's phases, and
// sleep until the next deadline or completion (core/wake_plan.hh). The
// connections themselves live one layer down (core/client_connections.hh),
// what they send one layer up (core/scenario.hh).
#include "core/client_shard.hh"

#include <chrono>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "core/buffer_pool.hh"
#include "core/client_connections.hh"
#include "core/client_transport.hh"
#include "core/clock.hh"
#include "core/codec_scenario.hh"
#include "core/connection_vars.hh"
#include "core/echo_scenario.hh"
#include "core/port_allocator.hh"
#include "core/pubsub_scenario.hh"
#include "core/received_bytes.hh"
#include "core/request_scenario.hh"
#include "core/ring.hh"
#include "core/thread_cpu.hh"
#include "core/timer_wheel.hh"
#include "core/user_data.hh"
#include "core/wake_plan.hh"
#include "proto/mask_source.hh"
#include "proto/ws_session.hh"

namespace horde::core {
namespace {

constexpr uint16_t buffer_group = 1;
// Per shard, recycled as soon as fed: 2 MiB however many connections the
// shard holds. A bigger message simply arrives in several buffers.
constexpr unsigned receive_buffers = 1024;
constexpr unsigned receive_buffer_size = 2048;
constexpr uint64_t max_wait_ns = 10'000'000;
constexpr unsigned separate_submit_at = 8;  // queued entries submitted before the wait is timed
constexpr size_t max_pooled_ws_contexts = 64;
constexpr uint32_t invalid_slot = UINT32_MAX;  // a request that belongs to no connection

}  // namespace

struct client_shard::impl final : scenario::shard_access {
  const client_plan& plan;
  const uint32_t index;
  shard_metrics& metrics;  // by_target[0]: what is not per target goes here
  std::span<shard_metrics* const> by_target;
  shard_control& control;
  uint64_t end_ns = 0;

  ring uring;
  buffer_pool buffers;
  timer_wheel wheel;
  port_allocator ports;
  proto::mask_source masks;
  proto::ws_shard_env ws_env;
  std::unique_ptr<client_transport> transport;
  std::unique_ptr<client_connections> conns;
  std::vector<uint32_t> ids;  // run-wide id of the connection in each slot
  std::unique_ptr<connection_vars> vars;
  std::unique_ptr<scenario> work;

  uint64_t launched = 0;
  uint64_t start_ns = 0;
  // --stages: the slots in use in the order they were taken (a falling
  // stage closes the newest first), and parked slots to take again.
  std::vector<uint32_t> active_slots;
  std::vector<uint32_t> parked_slots;
  uint64_t next_launch_ns = 0;
  uint64_t launch_interval_ns = 0;
  uint64_t next_chaos_ns = 0;  // --chaos-rate: the next drop; 0 = none
  uint64_t chaos_interval_ns = 0;
  uint64_t last_turn_ns = 0;  // when the last loop turn began
  unsigned last_drained = 0;  // completions the last loop turn took
  uint64_t drain_until_ns = 0;
  uint64_t close_until_ns = 0;  // set once every close has been started
  uint64_t next_close_ns = 0;   // the paced close phase: the next close handshake
  uint64_t close_interval_ns = 0;
  size_t max_closing = 1;     // close handshakes in flight in this shard
  uint64_t hard_stop_ns = 0;  // past it the loop returns, whatever is in flight
  size_t close_cursor = 0;    // the next connection to start closing
  enum class phase { running, draining, closing } run_phase = phase::running;

  impl(const client_plan& p, uint32_t i, std::span<shard_metrics* const> m, shard_control& c)
      : plan(p),
        index(i),
        metrics(*m[0]),
        by_target(m),
        control(c),
        wheel(now_ns()),
        ports(uint16_t(p.sources.size()), p.port_low, p.port_high, i, p.shards,
              std::span<const uint16_t>(p.excluded_ports)),
        ws_env(proto::ws_role::client, proto::ws_limits{}, masks, max_pooled_ws_contexts) {
    if (p.connect_rate > 0) launch_interval_ns = uint64_t(1e9 * p.shards / p.connect_rate);
    if (p.close_rate > 0) close_interval_ns = uint64_t(1e9 * p.shards / p.close_rate);
    max_closing = client_shard_closing_window(p);
    if (p.lifecycle.chaos_rate > 0)
      chaos_interval_ns = std::max<uint64_t>(1, uint64_t(1e9 * p.shards / p.lifecycle.chaos_rate));
  }

  uint64_t share() const noexcept {
    return client_shard::share(plan.connections, plan.shards, index);
  }

  // ---- scenario::shard_access ---------------------------------------------

  scenario_port* port_of(uint32_t slot) noexcept override { return conns->port_of(slot); }
  void rescheduled(uint32_t slot) noexcept override { conns->rescheduled(slot); }

  // ---- setting up -----------------------------------------------------------

  // The shard's fixed setup: ring, buffer ring, transport (a TLS context).
  result<void> set_up() {
    ring_options options;
    options.file_table_slots = std::max<uint32_t>(uint32_t(share()), 1);
    if (auto r = uring.init(options); !r) return r;
    if (auto r = buffers.init(uring.raw(), buffer_group, receive_buffers, receive_buffer_size); !r)
      return r;
    auto made = client_transport::make(plan, share());
    if (!made) return made.error();
    transport = std::move(*made);
    return {};
  }

  // Waits for the controller's start time; 0 when the run was aborted first.
  uint64_t wait_for_start() const noexcept {
    for (;;) {
      const uint64_t t0 = control.start_ns.load(std::memory_order_acquire);
      if (t0 != 0) return t0;
      if (control.abort.load(std::memory_order_relaxed)) return 0;
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }

  // The per-connection state, made once the run starts: the memory it takes
  // belongs to the connections, not to the shard's fixed setup.
  void make_slots(uint64_t t0) {
    end_ns = t0 + plan.duration_ns;
    start_ns = t0;
    next_launch_ns = t0;
    if (chaos_interval_ns != 0) next_chaos_ns = t0 + chaos_interval_ns;
    ids.resize(share());
    for (size_t k = 0; k < ids.size(); ++k)
      ids[k] = uint32_t(plan.global_id(index, k));
    conns = std::make_unique<client_connections>(
        client_connections::parts{plan, metrics, by_target, uring, buffers, wheel, ports, masks,
                                  ws_env, *transport},
        ids.size());
    vars = std::make_unique<connection_vars>(plan.vars, ids);
    conns->set_vars(*vars);
    if (plan.pubsub.enabled()) {
      auto pubsub = std::make_unique<pubsub_scenario>(plan, metrics, masks, ids, end_ns);
      if (plan.pubsub.http.enabled()) conns->set_publish_source(*pubsub);
      work = std::move(pubsub);
    } else if (plan.steps.enabled()) {
      work = std::make_unique<request_scenario>(plan, metrics, masks, ids, *vars, end_ns);
    } else {
      work = std::make_unique<echo_scenario>(plan, by_target, masks, ids, end_ns);
    }
    if (plan.protocol.enabled()) {
      auto over_codec = std::make_unique<codec_scenario>(plan.protocol, metrics, ids, masks.next(),
                                                         std::move(work));
      work = std::move(over_codec);
    }
    conns->set_scenario(*work);
  }

  // ---- the run's phases -----------------------------------------------------

  void launch_due(uint64_t now) noexcept {
    if (run_phase != phase::running) return;
    if (!plan.connection_stages.empty()) {
      follow_stages(now);
      return;
    }
    while (launched < ids.size() && conns->pending_connects() < conns->max_pending() &&
           next_launch_ns <= now) {
      const uint32_t slot = uint32_t(launched++);
      conns->launch(slot, plan.target_of(ids[slot]), now);
      next_launch_ns += launch_interval_ns;
    }
  }

  // This shard's share of the stages' target now.
  uint64_t stage_target(uint64_t now) const noexcept {
    const double total = plan.connection_stages.at(now - start_ns);
    const uint64_t whole = total <= 0 ? 0 : uint64_t(total + 0.5);
    // The stages count the whole plan's connections: this worker's share
    // of them (ids c % workers == worker), then this shard's.
    const uint64_t n = client_shard::share(whole, plan.worker_count, plan.worker_index);
    return std::min<uint64_t>(client_shard::share(n, plan.shards, index), ids.size());
  }

  // --stages: opens (at the connect rate) or closes (newest first) until
  // the slots in use match the target. A slot that failed stays counted in
  // use, as without stages: a failure is not replaced.
  void follow_stages(uint64_t now) noexcept {
    const uint64_t target = stage_target(now);
    while (active_slots.size() > target) {
      const uint32_t slot = active_slots.back();
      active_slots.pop_back();
      conns->stage_close(slot, now);
      parked_slots.push_back(slot);
    }
    while (active_slots.size() < target && conns->pending_connects() < conns->max_pending() &&
           next_launch_ns <= now) {
      uint32_t slot = UINT32_MAX;
      // A parked slot whose close has ended comes first; then a fresh one.
      for (size_t k = parked_slots.size(); k-- > 0;) {
        if (conns->unpark(parked_slots[k], now)) {
          slot = parked_slots[k];
          parked_slots.erase(parked_slots.begin() + ptrdiff_t(k));
          break;
        }
      }
      if (slot == UINT32_MAX) {
        if (launched >= ids.size()) break;  // the rest are still closing
        slot = uint32_t(launched++);
        conns->launch(slot, plan.target_of(ids[slot]), now);
      }
      active_slots.push_back(slot);
      next_launch_ns = std::max(next_launch_ns + launch_interval_ns, now - launch_interval_ns);
    }
  }

  // --chaos-rate: drops open connections at random at the plan's pace. A
  // drop that finds no open connection after a few tries is skipped (the
  // server may have dropped them all already).
  void chaos_due(uint64_t now) noexcept {
    if (run_phase != phase::running || next_chaos_ns == 0) return;
    while (next_chaos_ns <= now) {
      next_chaos_ns += chaos_interval_ns;
      for (int tries = 0; tries < 16; ++tries) {
        if (conns->chaos_drop(uint32_t(masks.next() % ids.size()), now)) break;
      }
    }
  }

  // Connections never launched are not part of the run any more.
  void forget_unlaunched() noexcept {
    conns->forget_unlaunched(ids.size() - launched);
    launched = ids.size();
  }

  // Running -> draining (echoes still owed) -> closing (close handshakes in
  // waves) -> a hard stop. Every step has a deadline that holds whatever the
  // server does: the last resort tears down what still stands at
  // close_until + close_timeout, and the loop returns at hard_stop_ns even if
  // some completions never came. A second signal (abort) skips to the end.
  void advance_phase(uint64_t now) noexcept {
    const bool stopping = control.stop.load(std::memory_order_relaxed);
    if (control.abort.load(std::memory_order_relaxed)) {
      if (hard_stop_ns == 0) {
        abort_all(now);
      } else {
        hard_stop_ns = std::min(hard_stop_ns, now + 1'000'000'000);  // already in the last resort
      }
      return;
    }
    if (run_phase == phase::running && (now >= end_ns || stopping)) {
      run_phase = phase::draining;
      count_live_slots();
      work->stop_sending();
      conns->stop_sending();
      drain_until_ns = now + (stopping || send_rate() <= 0 ? 0 : plan.drain_ns);
      forget_unlaunched();
    }
    if (run_phase == phase::draining &&
        (work->all_answered() || now >= drain_until_ns || stopping)) {
      run_phase = phase::closing;
    }
    if (run_phase == phase::closing && close_until_ns == 0) start_closes(now);
    if (run_phase == phase::closing && close_until_ns != 0 && hard_stop_ns == 0 &&
        now >= close_until_ns + plan.close_timeout_ns) {
      // Last resort: whatever still stands goes now.
      for (uint32_t slot = 0; slot < ids.size(); ++slot) {
        const conn_state s = conns->at(slot).state;
        if (s == conn_state::open || s == conn_state::closing) {
          metrics.counters.close_timed_out.add();
          conns->teardown(slot, std::nullopt);
        } else {
          conns->cut_short(slot);
        }
      }
      hard_stop_ns = now + plan.close_timeout_ns;
    }
  }

  // Close handshakes start at the plan's pace, with a bounded number in
  // flight: a close holds a wslay context (~9 KB) on both ends until it
  // completes, so a million at once would take gigabytes here and swamp the
  // server, which would then miss our timeout. Slots that are not open end
  // at once and take no turn of the pace.
  void start_closes(uint64_t now) noexcept {
    if (next_close_ns == 0) next_close_ns = now;
    while (close_cursor < ids.size() && conns->closing_now() < max_closing) {
      const uint32_t slot = uint32_t(close_cursor);
      const bool handshake = conns->at(slot).state == conn_state::open;
      if (handshake && close_interval_ns != 0 && next_close_ns > now) break;
      ++close_cursor;
      conns->begin_close(slot, now);
      // A shard that fell behind catches up by at most one interval.
      if (handshake && close_interval_ns != 0)
        next_close_ns = std::max(next_close_ns + close_interval_ns, now - close_interval_ns);
    }
    if (close_cursor == ids.size()) close_until_ns = now + plan.close_timeout_ns;
  }

  double send_rate() const noexcept {
    if (plan.steps.enabled()) return plan.steps.requests.empty() ? 0 : 1;
    return plan.pubsub.enabled() ? plan.pubsub.publish_rate : plan.message_rate;
  }

  // A second signal: no drain, no close handshakes; what is open is torn
  // down (not a failure: the user ended it), what was still being set up is
  // counted unfinished. The loop returns within a second at most.
  void abort_all(uint64_t now) noexcept {
    if (run_phase == phase::running) count_live_slots();
    run_phase = phase::closing;
    work->stop_sending();
    conns->stop_sending();
    forget_unlaunched();
    close_cursor = ids.size();
    if (close_until_ns == 0) close_until_ns = now;
    for (uint32_t slot = 0; slot < ids.size(); ++slot) {
      const conn_state s = conns->at(slot).state;
      if (s == conn_state::open || s == conn_state::closing) {
        conns->teardown(slot, std::nullopt);
      } else {
        conns->cut_short(slot);
      }
    }
    hard_stop_ns = now + 1'000'000'000;
  }

  // The leak check's first half (a soak's end): every slot still in use is
  // an open connection or one being set up.
  void count_live_slots() noexcept {
    metrics.counters.slots_live_at_end.set(conns->slots_in_use());
    uint64_t open = conns->handshaking();
    for (const shard_metrics* m : by_target)
      open += m->counters.open_now.get();
    metrics.counters.open_at_end.set(open);
  }

  // Past the hard stop: whatever is still in flight is abandoned (counted),
  // every request of the ring cancelled, and the loop returns.
  void abandon_in_flight() noexcept {
    for (uint32_t slot = 0; slot < ids.size(); ++slot) {
      const conn_state s = conns->at(slot).state;
      if (s != conn_state::done && s != conn_state::idle) metrics.counters.hard_stops.add();
    }
    io_uring_sqe* e = uring.sqe();
    io_uring_prep_cancel64(e, 0, IORING_ASYNC_CANCEL_ALL | IORING_ASYNC_CANCEL_ANY);
    io_uring_sqe_set_data64(e, pack({invalid_slot, 0, op::cancel}));
    uring.submit_and_wait(100'000'000, 1, 0);
  }

  // ---- the loop -------------------------------------------------------------

  result<void> run() {
    auto ready = set_up();
    control.ready.fetch_add(1, std::memory_order_acq_rel);
    if (!ready) return ready;
    const uint64_t t0 = wait_for_start();
    if (t0 == 0) return {};
    make_slots(t0);
    const thread_cpu cpu_at_start = read_thread_cpu();
    auto ran = loop();
    // The leak check's second half: with every connection ended, nothing may be held.
    metrics.counters.contexts_left.set(ws_env.contexts_in_use());
    metrics.counters.ports_left.set(ports.in_use());
    const thread_cpu cpu_at_end = read_thread_cpu();
    metrics.counters.cpu_run_ns.set(cpu_at_end.run_ns - cpu_at_start.run_ns);
    metrics.counters.cpu_wait_ns.set(cpu_at_end.wait_ns - cpu_at_start.wait_ns);
    return ran;
  }

  // How long the loop may sleep: the earliest of the wheel, the next launch
  // and the scenario's shard-wide work, folded as pollers.
  uint64_t due_in(uint64_t now) const noexcept {
    uint64_t wait = wheel.next_expiry_hint(now, max_wait_ns);
    auto consider = [&](uint64_t at) {
      if (at != 0) wait = at > now ? std::min(wait, at - now) : 0;
    };
    if (run_phase == phase::running && !plan.connection_stages.empty()) {
      if (active_slots.size() < stage_target(now)) consider(next_launch_ns);
    } else if (run_phase == phase::running && launched < ids.size() &&
               conns->pending_connects() < conns->max_pending()) {
      consider(next_launch_ns);
    }
    if (run_phase == phase::running) consider(next_chaos_ns);
    if (run_phase == phase::closing && close_until_ns == 0 && close_interval_ns != 0 &&
        conns->closing_now() < max_closing)
      consider(next_close_ns);
    consider(work->shard_due_ns());
    return wait;
  }

  result<void> loop() {
    while (conns->live() > 0) {
      uint64_t now = now_ns();
      if (hard_stop_ns != 0 && now >= hard_stop_ns) {
        abandon_in_flight();
        return {};
      }
      wheel.advance(now, [&](timer_node& node) { conns->on_timer(node, now); });
      launch_due(now);
      chaos_due(now);
      work->on_shard_due(*this, now);
      advance_phase(now);
      if (conns->live() == 0) break;
      const wake_plan sleep = plan_wake({.now_ns = now,
                                         .due_in_ns = due_in(now),
                                         .last_turn_ns = last_turn_ns,
                                         .interval_ns = plan.wake_interval_ns,
                                         .handshakes_running = conns->handshaking() > 0,
                                         .closing = run_phase == phase::closing,
                                         .last_drained = last_drained,
                                         .sends_to_watch = conns->take_sends_to_watch()});
      last_turn_ns = now;
      if (auto waited = wait(sleep, now); !waited) return waited;
    }
    // Submit anything queued (closes) before the ring goes away.
    uring.submit_and_poll();
    return {};
  }

  // Submits what is queued, sleeps as the wake plan says, takes completions.
  result<void> wait(const wake_plan& sleep, uint64_t turn_start) {
    uring.submit_if_queued(separate_submit_at);
    const uint64_t before_wait = now_ns();
    metrics.counters.busy_ns.add(before_wait - turn_start);
    const uint64_t wait = sleep.wake_at_ns > before_wait ? sleep.wake_at_ns - before_wait : 0;
    const int ret = wait == 0
                        ? uring.submit_and_poll()
                        : uring.submit_and_wait(wait, sleep.min_completions, plan.wake_interval_ns);
    if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY)
      return make_error(std::string("io_uring_enter failed: ") + std::strerror(-ret));
    const uint64_t after_wait = now_ns();
    conns->set_realtime_offset(realtime_minus_monotonic_ns());
    last_drained =
        uring.drain([&](const io_uring_cqe& cqe) { conns->on_completion(cqe, after_wait); });
    metrics.counters.busy_ns.add(now_ns() - after_wait);
    metrics.counters.loop_turns.add();
    metrics.counters.pings_received.set(ws_env.pings_received());
    if (plan.compression != compression_mode::off) publish_deflate_totals();
    return {};
  }

  // The codec's running totals (proto::deflate_shard), as the shard's counters.
  void publish_deflate_totals() noexcept {
    const auto& t = ws_env.deflate().counted();
    auto& c = metrics.counters;
    c.deflate_messages_sent.set(t.messages_compressed);
    c.deflate_bytes_before.set(t.bytes_before_compression);
    c.deflate_bytes_sent.set(t.bytes_compressed);
    c.inflate_messages_received.set(t.messages_inflated);
    c.inflate_bytes_received.set(t.bytes_before_inflation);
    c.inflate_bytes_after.set(t.bytes_inflated);
  }
};

client_shard::client_shard(const client_plan& plan, uint32_t index,
                           std::span<shard_metrics* const> metrics, shard_control& control)
    : _impl(std::make_unique<impl>(plan, index, metrics, control)) {}

client_shard::~client_shard() = default;

result<void> client_shard::run() {
  return _impl->run();
}

}  // namespace horde::core
