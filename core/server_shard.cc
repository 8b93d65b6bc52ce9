#include "core/server_shard.hh"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/broker.hh"
#include "core/buffer_pool.hh"
#include "core/clock.hh"
#include "core/out_buffer.hh"
#include "core/ring.hh"
#include "core/slot_io.hh"
#include "core/tls_transport.hh"
#include "core/uring_compat.hh"
#include "core/user_data.hh"
#include "proto/broker_protocol.hh"
#include "proto/deflate_accept.hh"
#include "proto/mask_source.hh"
#include "proto/session_issuer.hh"
#include "proto/upgrade_server.hh"
#include "proto/ws_session.hh"

namespace horde::core {
namespace {

constexpr uint16_t buffer_group = 1;
constexpr unsigned receive_buffers = 512;
constexpr unsigned receive_buffer_size = 2048;
constexpr uint64_t max_wait_ns = 100'000'000;
constexpr uint32_t listener_slot = ~0u;  // user_data slot of the accept
constexpr uint32_t wake_slot = ~0u - 1;  // user_data slot of wake-ups from other shards
const int one = 1;              // a setsockopt value the kernel reads after the call returns
const linger hard_reset{1, 0};  // SO_LINGER on, 0 s: close sends RST (socket(7))
constexpr size_t max_header_bytes = 8192;
constexpr size_t max_header_lines = 64;
// Answers a kept-alive connection may have waiting unsent before it is closed
// as a slow consumer: a peer that pipelines POSTs and never reads would
// otherwise grow its out-buffer ~3 bytes for every byte it sends.
constexpr size_t max_unsent_answers_bytes = 1u << 20;
constexpr uint64_t batch_wait_ns = 200'000;  // longest sleep while batching completions

enum class peer_state : uint8_t { free, handshake, open, tearing };

struct peer {
  out_buffer out;
  proto::ws_session session;
  proto::upgrade_request_parser* handshake = nullptr;
  uint16_t generation = 0;
  uint8_t pending = 0;
  peer_state state = peer_state::free;
  bool close_after_send = false;  // an error answer or our close reply is on its way
  bool flush_queued = false;      // in the shard's list of peers to flush this loop turn
};

static_assert(sizeof(peer) <= 64);

void relaxed_add(std::atomic<uint64_t>& counter, uint64_t n = 1) noexcept {
  counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}
void relaxed_sub(std::atomic<uint64_t>& counter) noexcept {
  counter.store(counter.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
}

std::span<const uint8_t> bytes_of(std::string_view text) noexcept {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

std::string_view text_of(std::span<const uint8_t> bytes) noexcept {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace

result<int> open_listener(const endpoint& where, int backlog) {
  int fd = socket(where.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (bind(fd, where.address(), where.length) != 0) {
    std::string message = std::string("bind: ") + std::strerror(errno);
    close(fd);
    return make_error(message);
  }
  if (listen(fd, backlog) != 0) {
    std::string message = std::string("listen: ") + std::strerror(errno);
    close(fd);
    return make_error(message);
  }
  return fd;
}

uint16_t listener_port(int fd) noexcept {
  sockaddr_in6 address{};
  socklen_t length = sizeof address;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return 0;
  return ntohs(address.sin6_port);  // same offset as sockaddr_in's port
}

server_mesh::server_mesh(uint32_t shards, bool pubsub, uint32_t ring_bytes)
    : _shards(shards),
      _pubsub(pubsub && shards > 1),
      _ring_bytes(ring_bytes),
      _rings(new std::atomic<publish_ring*>[size_t(shards) * shards]),
      _wake_fds(new std::atomic<int>[shards]) {
  for (size_t i = 0; i < size_t(shards) * shards; ++i)
    _rings[i].store(nullptr, std::memory_order_relaxed);
  for (uint32_t i = 0; i < shards; ++i)
    _wake_fds[i].store(-1, std::memory_order_relaxed);
  if (!_pubsub) return;
  // Bits per shard: 2^18 (a 32 KiB map; the owner counts groups per bucket
  // in 1 MiB once it has any), fewer when there are hundreds of shards
  // (RLIMIT_NOFILE forces them): 16 MiB of maps in all at most.
  uint32_t bytes = 32 * 1024;
  while (bytes > 8 * 1024 && size_t(bytes) * shards > (16u << 20))
    bytes /= 2;
  for (uint32_t i = 0; i < shards; ++i)
    _interest.push_back(std::make_unique<interest_map>(bytes * 8));
}

server_mesh::~server_mesh() {
  for (uint32_t i = 0; i < _shards; ++i) {
    const int fd = _wake_fds[i].load(std::memory_order_acquire);
    if (fd >= 0) close(fd);
  }
  for (size_t i = 0; i < size_t(_shards) * _shards; ++i)
    delete _rings[i].load(std::memory_order_acquire);
}

publish_ring& server_mesh::make_ring(uint32_t from, uint32_t to) {
  std::atomic<publish_ring*>& slot = _rings[size_t(from) * _shards + to];
  publish_ring* ring = slot.load(std::memory_order_relaxed);  // only this shard stores it
  if (ring == nullptr) {
    ring = new publish_ring(_ring_bytes);
    slot.store(ring, std::memory_order_release);
  }
  return *ring;
}

void server_mesh::set_wake_fd(uint32_t shard, int fd) noexcept {
  const int previous = _wake_fds[shard].exchange(fd, std::memory_order_acq_rel);
  if (previous >= 0) close(previous);
}

struct server_shard::impl final : proto::ws_sink, tls_transport::plaintext_sink {
  const server_plan& plan;
  const uint32_t index;
  const int listen_fd;
  server_counters& counters;
  server_mesh& mesh;
  const std::atomic<bool>& stop;

  ring uring;
  buffer_pool buffers;
  proto::mask_source masks;
  proto::ws_shard_env ws_env;
  std::vector<peer> peers;
  parser_pool<proto::upgrade_request_parser> parsers;
  bool accept_armed = false;
  unsigned last_batch = 0;  // completions the last loop turn handled
  uint64_t accept_retry_ns = 0;

  // Messages collected while wslay is delivering, acted on (echoed, or run
  // as commands) once it returns: queueing a message from inside wslay's own
  // callback is re-entrant.
  struct received {
    proto::ws_opcode opcode;
    std::vector<uint8_t> body;
  };
  std::vector<received> inbox;
  size_t inbox_count = 0;
  peer* current = nullptr;
  // --tls-cert only: TLS sessions and ciphertext buffers beside the slots.
  std::unique_ptr<tls_transport> tls;

  // The broker.
  group_table groups;
  std::vector<std::unique_ptr<publish_outlet>> outlets;  // by destination shard
  std::vector<std::unique_ptr<publish_inlet>> inlets;    // by source shard
  bool holding = false;                                  // an outlet waits for room in its ring
  std::vector<uint8_t> frame;                            // the delivery being fanned out
  std::vector<uint8_t> reply;                            // an ok/err answer
  std::vector<uint32_t> dirty;                           // slots with frames queued this loop turn
  std::vector<uint32_t> slow;      // subscribers over max_out_bytes, dropped after a fan-out
  uint64_t delivery_sequence = 0;  // deliveries this shard would make (drop_every)
  uint64_t kept_sequence = 0;      // ... of them not dropped (duplicate_every)

  // --sessions: the service, sessions this shard issued, the answer being built.
  std::optional<proto::session_issuer> sessions;
  uint64_t sessions_made = 0;
  std::string answer_text;
  std::string extension_answer;  // --compression: the 101's Sec-WebSocket-Extensions
  // --drop-at.
  bool drop_done = false;
  bool accept_noted = false;

  impl(const server_plan& p, uint32_t i, int fd, server_counters& c, server_mesh& m,
       const std::atomic<bool>& s)
      : plan(p),
        index(i),
        listen_fd(fd),
        counters(c),
        mesh(m),
        stop(s),
        ws_env(proto::ws_role::server, proto::ws_limits{}, masks, 64),
        peers(p.file_slots_per_shard),
        outlets(m.shards()),
        inlets(m.shards()) {
    if (interest_map* mine = m.interest(index)) groups.publish_interest(*mine);
  }

  ~impl() {
    for (auto& p : peers) {
      p.session.reset(ws_env);
      parsers.give(p.handshake);
    }
  }

  uint32_t slot_of(const peer& p) const noexcept { return uint32_t(&p - peers.data()); }

  io_uring_sqe* sqe_for(peer& p, op operation) noexcept {
    return slot_sqe(uring, slot_of(p), p.generation, p.pending, operation);
  }

  void arm_accept() noexcept {
    io_uring_sqe* e = uring.sqe();
    io_uring_prep_multishot_accept_direct(e, listen_fd, nullptr, nullptr, 0);
    io_uring_sqe_set_data64(e, pack({listener_slot, 0, op::accept}));
    accept_armed = true;
  }

  void arm_recv(peer& p) noexcept {
    io_uring_sqe* e = sqe_for(p, op::recv);
    io_uring_prep_recv_multishot(e, int(slot_of(p)), nullptr, 0, 0);
    e->flags |= IOSQE_FIXED_FILE | IOSQE_BUFFER_SELECT;
    e->buf_group = buffers.group_id();
  }

  // What the ring sends: the ciphertext buffer with TLS, else p.out (which
  // then holds plaintext until flush seals it).
  out_buffer& wire_of(peer& p) noexcept { return tls ? tls->wire(slot_of(p)) : p.out; }

  // Nothing waits to be sent and no send is in flight.
  bool all_sent(peer& p) noexcept {
    const out_buffer& wire = wire_of(p);
    return p.out.empty() && wire.empty() && !wire.sending();
  }

  // Counted with its reason, as the client counts its own (core/metrics.hh).
  void tls_failed(peer& p) noexcept {
    relaxed_add(counters.tls_failed);
    const auto [reason, text] = tls_failure_cause_of(tls->session(slot_of(p)));
    counters.tls_failures.fail_with(reason, text);
  }

  void flush(peer& p) noexcept {
    if (p.state == peer_state::tearing) return;
    // A session that already failed (counted where it failed) has nothing
    // to seal but its alert, already in the wire: send that, then close.
    if (tls && tls->session(slot_of(p)).state() != proto::tls_state::failed &&
        !tls->seal(slot_of(p), p.out)) {
      tls_failed(p);
      teardown(p);
      return;
    }
    out_buffer& out = wire_of(p);
    if (out.sending() || out.empty()) return;
    auto bytes = out.start_send();
    io_uring_sqe* e = sqe_for(p, op::send);
    io_uring_prep_send(e, int(slot_of(p)), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    e->flags |= IOSQE_FIXED_FILE;
  }

  // abort_send: also cancel a send in flight. A slow consumer's send waits
  // for a peer that does not read and would hold the socket (and the slot)
  // open for as long as the peer stays; otherwise a send in flight is left to
  // finish (a peer that half-closed still gets its answers).
  void teardown(peer& p, bool abort_send = false) noexcept {
    if (p.state == peer_state::tearing || p.state == peer_state::free) return;
    if (p.state == peer_state::open) relaxed_sub(counters.open_now);
    p.state = peer_state::tearing;
    const uint32_t slot = slot_of(p);
    groups.remove_peer(slot, p.generation);  // no delivery reaches it from now on
    submit_slot_close(uring, slot, p.generation, p.pending, abort_send && wire_of(p).sending());
  }

  void release(peer& p) noexcept {
    p.out.release();
    if (tls) tls->release(slot_of(p));
    p.session.reset(ws_env);
    parsers.give(p.handshake);
    p.close_after_send = false;
    p.state = peer_state::free;
    ++p.generation;
  }

  // ---- the broker ----------------------------------------------------------

  // Frames may go to a peer only while its session is open: after a close
  // frame nothing more may be sent (RFC 6455 5.5.1).
  static bool deliverable(const peer& q) noexcept {
    return q.state == peer_state::open && !q.close_after_send &&
           q.session.state() == proto::ws_state::open;
  }

  void mark_dirty(peer& q) noexcept {
    if (q.flush_queued) return;
    q.flush_queued = true;
    dirty.push_back(slot_of(q));
  }

  // `ok sub G`, `err REASON`, ... in the opcode of the command. Written
  // straight to the out-buffer: wslay writes whole frames and none is half
  // written between its calls.
  void answer(peer& p, proto::ws_opcode opcode, std::string_view head,
              std::string_view tail) noexcept {
    proto::encode_server_frame(reply, opcode, {bytes_of(head), bytes_of(tail)});
    if (!p.out.append(reply)) p.close_after_send = true;
    relaxed_add(counters.messages_out);
  }

  // Every local subscriber of the group gets `msg G PAYLOAD`: one frame,
  // encoded once, copied to each out-buffer; flushed at the end of the turn.
  void deliver(proto::ws_opcode opcode, std::string_view group, uint32_t hash,
               std::span<const uint8_t> payload) noexcept {
    const auto subscribers = groups.subscribers(group, hash);
    if (subscribers.empty()) return;
    proto::encode_server_frame(frame, opcode,
                               {bytes_of("msg "), bytes_of(group), bytes_of(" "), payload});
    uint64_t delivered = 0, dropped = 0, duplicated = 0;
    for (const auto& s : subscribers) {
      peer& q = peers[s.slot];
      if (!deliverable(q) || groups.generation(s.slot) != q.generation) continue;
      ++delivery_sequence;
      if (plan.drop_every != 0 && delivery_sequence % plan.drop_every == 0) {
        ++dropped;
        continue;
      }
      // Every Nth delivery that was not dropped: with --drop-every 50 and
      // --duplicate-every 100 both happen (counting one sequence, every
      // hundredth would also be a fiftieth and only ever be dropped).
      ++kept_sequence;
      const bool twice = plan.duplicate_every != 0 && kept_sequence % plan.duplicate_every == 0;
      bool fits = q.out.append(frame);
      if (fits) ++delivered;
      if (fits && twice) {
        fits = q.out.append(frame);
        if (fits) {
          ++delivered;
          ++duplicated;
        }
      }
      // Torn down after the loop: teardown edits the list being walked.
      if (!fits || q.out.size() + (tls ? wire_of(q).size() : 0) > plan.max_out_bytes) {
        slow.push_back(s.slot);
      } else {
        mark_dirty(q);
      }
    }
    if (delivered != 0) relaxed_add(counters.deliveries, delivered);
    if (dropped != 0) relaxed_add(counters.deliveries_dropped, dropped);
    if (duplicated != 0) relaxed_add(counters.deliveries_duplicated, duplicated);
    for (uint32_t slot : slow) {
      relaxed_add(counters.slow_consumers);
      teardown(peers[slot], true);
    }
    slow.clear();
  }

  // Delivered here, and forwarded to every other shard whose interest map
  // says it may have subscribers of the group.
  void publish(proto::ws_opcode opcode, std::string_view group,
               std::span<const uint8_t> payload) noexcept {
    relaxed_add(counters.publishes);
    const uint32_t hash = group_hash(group);
    deliver(opcode, group, hash, payload);
    if (!mesh.pubsub()) return;
    for (uint32_t shard = 0; shard < mesh.shards(); ++shard) {
      if (shard == index || !mesh.interest(shard)->may_have(hash)) continue;
      if (!outlets[shard]) {
        outlets[shard] = std::make_unique<publish_outlet>(mesh.make_ring(index, shard));
      }
      outlets[shard]->push(uint8_t(opcode), bytes_of(group), payload);
    }
  }

  // A command p sent; runs after wslay's feed returned.
  void run_command(peer& p, proto::ws_opcode opcode, const command& c) noexcept {
    const bool can_answer = deliverable(p);
    if (!c.error.empty()) {
      relaxed_add(counters.command_errors);
      if (can_answer) answer(p, opcode, "err ", c.error);
      return;
    }
    switch (c.kind) {
      case command_kind::sub:
        if (!can_answer) return;  // closing: the subscription would die unanswered
        groups.subscribe(c.group, slot_of(p), p.generation);
        relaxed_add(counters.subscribes);
        answer(p, opcode, "ok sub ", c.group);  // in force already
        return;
      case command_kind::unsub:
        if (!can_answer) return;
        groups.unsubscribe(c.group, slot_of(p), p.generation);
        relaxed_add(counters.unsubscribes);
        answer(p, opcode, "ok unsub ", c.group);
        return;
      case command_kind::pub:
        publish(opcode, c.group, c.payload);
        return;
      case command_kind::none:
        return;
    }
  }

  // Publishes other shards forwarded, in the order each of them read them.
  unsigned receive_forwarded() noexcept {
    if (!mesh.pubsub()) return 0;
    size_t received_now = 0;
    for (uint32_t shard = 0; shard < mesh.shards(); ++shard) {
      if (!inlets[shard]) {
        publish_ring* ring = shard == index ? nullptr : mesh.ring(shard, index);
        if (ring == nullptr) continue;  // that shard has not forwarded here yet
        inlets[shard] = std::make_unique<publish_inlet>(*ring);
      }
      received_now += inlets[shard]->receive(
          [this](uint8_t opcode, std::span<const uint8_t> group, std::span<const uint8_t> payload) {
            deliver(proto::ws_opcode(opcode), text_of(group), group_hash(text_of(group)), payload);
          });
    }
    return unsigned(received_now);
  }

  // Posts a completion into another shard's ring; it wakes that shard if it
  // sleeps. No completion here on success (CQE_SKIP_SUCCESS).
  void wake(uint32_t shard) noexcept {
    const int fd = mesh.wake_fd(shard);
    if (fd < 0) return;  // its ring is not up yet; its first turn reads the rings
    io_uring_sqe* e = uring.sqe();
    io_uring_prep_msg_ring(e, fd, 0, pack({wake_slot, 0, op::recv}), 0);
    io_uring_sqe_set_data64(e, pack({wake_slot, 0, op::send}));
    e->flags |= IOSQE_CQE_SKIP_SUCCESS;
  }

  // Once per loop turn: forwards become visible (one wake-up per shard that
  // got some), queued frames go out (one send per peer), gauges updated.
  void end_turn() noexcept {
    holding = false;
    for (uint32_t shard = 0; shard < outlets.size(); ++shard) {
      if (!outlets[shard]) continue;
      if (outlets[shard]->commit()) wake(shard);
      holding = holding || outlets[shard]->holding();
    }
    for (uint32_t slot : dirty) {
      peer& q = peers[slot];
      q.flush_queued = false;
      flush(q);
    }
    dirty.clear();
    counters.groups.store(groups.groups(), std::memory_order_relaxed);
    counters.subscriptions.store(groups.subscriptions(), std::memory_order_relaxed);
    if (plan.compression) {
      const auto& coded = ws_env.deflate().counted();
      counters.bytes_before_compression.store(coded.bytes_before_compression,
                                              std::memory_order_relaxed);
      counters.bytes_compressed.store(coded.bytes_compressed, std::memory_order_relaxed);
      counters.bytes_before_inflation.store(coded.bytes_before_inflation,
                                            std::memory_order_relaxed);
      counters.bytes_inflated.store(coded.bytes_inflated, std::memory_order_relaxed);
    }
  }

  // ---- ws_sink -------------------------------------------------------------

  void on_message(proto::ws_opcode opcode, std::span<const uint8_t> body) override {
    relaxed_add(counters.messages_in);
    if (plan.mode != server_mode::echo) return;
    if (inbox_count == inbox.size()) inbox.emplace_back();
    received& slot = inbox[inbox_count++];
    slot.opcode = opcode;
    slot.body.assign(body.begin(), body.end());
  }

  void on_close(uint16_t, std::string_view) override {}

  void write(std::span<const uint8_t> bytes) override {
    if (!current->out.append(bytes)) current->close_after_send = true;
  }

  // ---- completions ---------------------------------------------------------

  void on_accept(const io_uring_cqe& cqe) noexcept {
    if (!(cqe.flags & IORING_CQE_F_MORE)) accept_armed = false;
    if (cqe.res < 0) {
      // -ENFILE: the direct-descriptor table is full; the kernel has already
      // dropped that connection. Back off briefly instead of spinning.
      if (cqe.res != -ECANCELED) relaxed_add(counters.accept_errors);
      if (!accept_armed) accept_retry_ns = now_ns() + 10'000'000;
      return;
    }
    const uint32_t slot = uint32_t(cqe.res);
    if (slot >= peers.size()) return;  // cannot happen: the table is peers.size()
    peer& p = peers[slot];
    relaxed_add(counters.accepted);
    if (!accept_noted && plan.drop_after_ns != 0) {
      accept_noted = true;
      mesh.note_accept(now_ns());
    }
    // No Nagle on answers: an echo held back for an ACK would be measured as
    // latency. Fire and forget; its completion carries op::setsockopt.
    io_uring_sqe* nodelay = sqe_for(p, op::setsockopt);
    uring_compat::prep_setsockopt(nodelay, int(slot), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    nodelay->flags |= IOSQE_FIXED_FILE;
    if (plan.mode == server_mode::raw_echo) {
      // Raw TCP: no handshake, every byte is echoed as it came.
      p.state = peer_state::open;
      relaxed_add(counters.upgraded);
      relaxed_add(counters.open_now);
      arm_recv(p);
      return;
    }
    p.state = peer_state::handshake;
    if (tls && !tls->accept(slot)) {
      tls_failed(p);
      teardown(p);
      return;
    }
    p.handshake = parsers.take();
    reset_request(p);
    arm_recv(p);
  }

  // Ready for the next request. Bodies are read (bounded) for the session
  // service and the broker's HTTP publishes.
  void reset_request(peer& p) noexcept {
    if (sessions || plan.mode == server_mode::echo) {
      p.handshake->reset(max_header_bytes, max_header_lines, proto::max_request_body_bytes);
    } else {
      p.handshake->reset();
    }
  }

  void on_completion(const io_uring_cqe& cqe) noexcept {
    const op_tag tag = unpack(cqe.user_data);
    if (tag.operation == op::accept) {
      on_accept(cqe);
      return;
    }
    // A wake-up from another shard (or a failed one of ours): the rings are
    // read every turn anyway.
    if (tag.slot == wake_slot) return;
    const bool has_buffer = (cqe.flags & IORING_CQE_F_BUFFER) != 0;
    const uint16_t buffer_id = uint16_t(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
    if (tag.slot >= peers.size() || peers[tag.slot].generation != tag.generation) {
      if (has_buffer) buffers.recycle(buffer_id);
      return;
    }
    peer& p = peers[tag.slot];
    const bool more = tag.operation == op::recv && (cqe.flags & IORING_CQE_F_MORE);
    if (!more) --p.pending;
    switch (tag.operation) {
      case op::recv:
        if (cqe.res > 0 && has_buffer) {
          on_bytes(p, buffers.bytes(buffer_id, unsigned(cqe.res)));
          buffers.recycle(buffer_id);
          if (!more && p.state != peer_state::tearing) arm_recv(p);
        } else {
          if (has_buffer) buffers.recycle(buffer_id);
          if (cqe.res == -ENOBUFS && p.state != peer_state::tearing) {
            arm_recv(p);
          } else if (cqe.res != -ECANCELED) {
            teardown(p);  // EOF or reset
          }
        }
        break;
      case op::send:
        if (cqe.res < 0) {
          wire_of(p).finish_send(0);
          teardown(p);
          break;
        }
        wire_of(p).finish_send(uint32_t(cqe.res));
        flush(p);
        if (p.close_after_send && all_sent(p)) teardown(p);
        break;
      default:
        break;
    }
    if (p.pending == 0 && p.state == peer_state::tearing) release(p);
  }

  void on_bytes(peer& p, std::span<const uint8_t> bytes) noexcept {
    if (tls) {
      on_ciphertext(p, bytes);
      return;
    }
    on_plain_bytes(p, bytes);
  }

  void on_ciphertext(peer& p, std::span<const uint8_t> bytes) noexcept {
    const bool was_handshaking = tls->session(slot_of(p)).state() == proto::tls_state::handshaking;
    const proto::tls_state state = tls->feed(slot_of(p), bytes, *this);
    if (p.state == peer_state::tearing) return;
    if (was_handshaking && state == proto::tls_state::open) {
      relaxed_add(tls->session(slot_of(p)).resumed() ? counters.tls_resumed : counters.tls_full);
    }
    flush(p);  // handshake messages, the alert of a failure, our close_notify answer
    if (state == proto::tls_state::failed) {
      tls_failed(p);
      p.close_after_send = true;
    } else if (state == proto::tls_state::closed) {
      p.close_after_send = true;
    }
    if (p.close_after_send && all_sent(p)) teardown(p);
  }

  void on_plaintext(uint32_t slot, std::span<const uint8_t> bytes) noexcept override {
    on_plain_bytes(peers[slot], bytes);
  }

  // Reads requests off `bytes` while p is in its handshake and answers each
  // in turn (a kept-alive connection may have sent the next one already: one
  // request is parsed at a time, the rest waits in `bytes`). On return,
  // `bytes` holds what follows an upgrade (the framer's), else nothing.
  void read_requests(peer& p, std::span<const uint8_t>& bytes) noexcept {
    while (p.state == peer_state::handshake && !p.close_after_send) {
      size_t consumed = 0;
      const proto::parse_status status = p.handshake->feed(text_of(bytes), consumed);
      bytes = bytes.subspan(consumed);
      if (status == proto::parse_status::need_more) break;
      if (!answer_request(p, status)) break;
      if (p.out.size() + (tls ? wire_of(p).size() : 0) > max_unsent_answers_bytes) {
        relaxed_add(counters.slow_consumers);
        p.close_after_send = true;
        break;
      }
      reset_request(p);  // kept alive: the next request
      if (bytes.empty()) break;
    }
    if (p.state != peer_state::open) bytes = {};
    flush(p);
  }

  // Appends the answer to a complete (or unreadable) request and moves p on:
  // open after a 101, closing after an error. True when the connection
  // stays in its handshake for another request (a 201 kept alive).
  bool answer_request(peer& p, proto::parse_status status) noexcept {
    const proto::upgrade_request_parser& request = *p.handshake;
    answer_text.clear();
    if (const auto target = proto::route_http_publish(request.method(), request.path());
        target.route != proto::http_publish_route::other) {
      return answer_publish(p, status, target);
    }
    bool again = false;
    const proto::session_route route =
        sessions ? proto::route_session_request(request.method(), request.path())
                 : proto::session_route::upgrade;
    if (status == proto::parse_status::invalid ||
        (route == proto::session_route::upgrade &&
         request.failure() != proto::upgrade_request_failure::none)) {
      const bool body_too_large = request.failure() == proto::upgrade_request_failure::too_large &&
                                  request.content_length() > proto::max_request_body_bytes;
      relaxed_add(route == proto::session_route::issue ? counters.sessions_refused
                                                       : counters.rejected);
      answer_text = body_too_large ? proto::build_error_response(413, "Content Too Large")
                                   : proto::build_error_response(400, "Bad Request");
      p.close_after_send = true;
    } else if (route == proto::session_route::not_found) {
      relaxed_add(counters.requests_not_found);
      answer_text = proto::build_error_response(404, "Not Found");
      p.close_after_send = true;
    } else if (route == proto::session_route::issue) {
      // Ids unique over the shards: shard i issues i+1, i+1+shards, ...
      const uint64_t id = sessions_made++ * mesh.shards() + index + 1;
      char name[24];
      const int length = std::snprintf(name, sizeof name, "s%llu", (unsigned long long)id);
      sessions->issue(answer_text, std::string_view(name, size_t(length)),
                      int64_t(std::time(nullptr)), request.keep_alive());
      relaxed_add(counters.sessions_issued);
      again = request.keep_alive();
      p.close_after_send = !again;
    } else if (sessions &&
               sessions->authorize(request.authorization(), request.path(),
                                   int64_t(std::time(nullptr))) != proto::session_auth::ok) {
      relaxed_add(counters.upgrades_unauthorized);
      answer_text = proto::build_error_response(
          401, "Unauthorized", "WWW-Authenticate: Bearer error=\"invalid_token\"\r\n");
      p.close_after_send = true;
    } else {
      answer_text = proto::build_upgrade_response(request.key(), {}, agree_compression(p, request));
      relaxed_add(counters.upgraded);
      relaxed_add(counters.open_now);
      p.state = peer_state::open;
    }
    if (!p.out.append(bytes_of(answer_text))) p.close_after_send = true;
    if (!again) parsers.give(p.handshake);
    return again && !p.close_after_send;
  }

  // --compression accept: the Sec-WebSocket-Extensions answer when the
  // client offered permessage-deflate on terms we meet, else empty (also
  // when the state could not be made: the client then gets no extension).
  std::string_view agree_compression(peer& p, const proto::upgrade_request_parser& request) {
    if (!plan.compression || request.extensions().empty()) return {};
    proto::deflate_params agreed;
    if (!proto::accept_deflate_offer(request.extensions(), plan.deflate, agreed,
                                     extension_answer) ||
        !p.session.use_deflate(ws_env, agreed)) {
      return {};
    }
    relaxed_add(counters.compressed_upgrades);
    return extension_answer;
  }

  // POST /publish/G: the body goes to G's subscribers as a `pub G BODY`
  // command's payload would (here and through the other shards), answered
  // 202 before they all have it (other shards deliver on their next turn).
  // The connection stays alive for the next request unless it asked to close
  // or was refused.
  bool answer_publish(peer& p, proto::parse_status status,
                      const proto::http_publish_target& target) noexcept {
    const proto::upgrade_request_parser& request = *p.handshake;
    const bool keep = status == proto::parse_status::done && request.keep_alive() &&
                      target.route == proto::http_publish_route::publish;
    if (status != proto::parse_status::done) {
      const bool too_large = request.failure() == proto::upgrade_request_failure::too_large &&
                             request.content_length() > proto::max_request_body_bytes;
      answer_text = too_large ? proto::build_error_response(413, "Content Too Large")
                              : proto::build_error_response(400, "Bad Request");
    } else if (target.route == proto::http_publish_route::bad_group) {
      answer_text = proto::build_error_response(404, "Not Found");
    } else {
      const auto body = bytes_of(request.body());
      publish(proto::is_utf8(body) ? proto::ws_opcode::text : proto::ws_opcode::binary,
              target.group, body);
      proto::append_response(answer_text, 202, "Accepted", "text/plain", "", keep);
    }
    relaxed_add(target.route == proto::http_publish_route::publish &&
                        status == proto::parse_status::done
                    ? counters.http_publishes
                    : counters.http_publishes_refused);
    p.close_after_send = !keep;
    if (!p.out.append(bytes_of(answer_text))) p.close_after_send = true;
    if (!keep) parsers.give(p.handshake);
    return keep && !p.close_after_send;
  }

  // ---- --drop-at -----------------------------------------------------------

  // The deadline, once the first accept (of any shard) set the clock; 0
  // while there is none or the drop is done.
  uint64_t drop_deadline() const noexcept {
    if (plan.drop_after_ns == 0 || drop_done) return 0;
    const uint64_t first = mesh.first_accept_ns();
    return first == 0 ? 0 : first + plan.drop_after_ns;
  }

  // When due: drop_fraction of this shard's open connections go at once,
  // spread evenly over the slots (every other one at 0.5), rounded to the
  // nearest count.
  void drop_when_due(uint64_t now) noexcept {
    const uint64_t deadline = drop_deadline();
    if (deadline == 0 || now < deadline) return;
    drop_done = true;
    double share = 0.5;
    uint64_t dropped = 0;
    for (peer& p : peers) {
      if (!deliverable(p)) continue;
      share += plan.drop_fraction;
      if (share < 1) continue;
      share -= 1;
      ++dropped;
      drop(p);
    }
    relaxed_add(counters.mass_dropped, dropped);
  }

  void drop(peer& p) noexcept {
    if (plan.drop_reset) {
      // SO_LINGER 0 hard-linked ahead of the cancels and the close: the
      // close then sends RST and discards what was unsent.
      io_uring_sqe* e = sqe_for(p, op::setsockopt);
      uring_compat::prep_setsockopt(e, int(slot_of(p)), SOL_SOCKET, SO_LINGER, &hard_reset,
                                    sizeof hard_reset);
      e->flags |= IOSQE_FIXED_FILE | IOSQE_IO_HARDLINK;
      teardown(p, true);
      return;
    }
    if (plan.mode == server_mode::raw_echo) {
      teardown(p);  // raw TCP has no close frame: FIN
      return;
    }
    // 1001 going away (RFC 6455 7.4.1); TCP closes once it is sent.
    current = &p;
    p.session.close(ws_env, 1001, "horde: mass drop", *this);
    current = nullptr;
    p.close_after_send = true;
    flush(p);
    if (all_sent(p)) teardown(p);
  }

  void on_plain_bytes(peer& p, std::span<const uint8_t> bytes) noexcept {
    if (plan.mode == server_mode::raw_echo) {
      if (p.state != peer_state::open) return;
      if (!p.out.append(bytes)) p.close_after_send = true;
      flush(p);
      return;
    }
    if (p.state == peer_state::handshake) {
      read_requests(p, bytes);
      if (bytes.empty()) return;
    }
    if (p.state != peer_state::open) return;
    current = &p;
    inbox_count = 0;
    auto state = p.session.feed(ws_env, bytes, *this);
    // In the order read; a publish is delivered even when the publisher's
    // close came in the same read. p may be torn down on the way (a slow
    // consumer of its own group): what it sent after that is dropped.
    for (size_t i = 0; i < inbox_count && p.state == peer_state::open; ++i) {
      const received& m = inbox[i];
      if (const command c = parse_command(m.body); c.kind != command_kind::none) {
        run_command(p, m.opcode, c);
      } else if (state == proto::ws_state::open) {
        state = p.session.send(ws_env, m.opcode, m.body, *this);
        relaxed_add(counters.messages_out);
      }
    }
    current = nullptr;
    if (state == proto::ws_state::failed) {
      relaxed_add(counters.protocol_errors);
      p.close_after_send = true;  // wslay queued a close with the reason
    } else if (state == proto::ws_state::closed) {
      p.close_after_send = true;  // our close reply goes out, then TCP closes
      if (tls) {
        flush(p);  // the close reply is sealed before close_notify follows it
        tls->close_notify(slot_of(p));
      }
    } else if (p.session.at_boundary()) {
      p.session.release_context(ws_env);
    }
    flush(p);
    if (p.close_after_send && all_sent(p)) teardown(p);
  }

  result<void> run() {
    ring_options options;
    options.file_table_slots = uint32_t(peers.size());
    if (auto r = uring.init(options); !r) return r;
    if (auto r = buffers.init(uring.raw(), buffer_group, receive_buffers, receive_buffer_size);
        !r) {
      return r;
    }
    if (!plan.sessions_secret.empty()) {
      auto made = proto::session_issuer::make(plan.sessions_secret);
      if (!made) return made.error();
      sessions.emplace(std::move(*made));
    }
    if (plan.tls()) {
      auto made = tls_transport::server(plan.tls_server, peers.size());
      if (!made) return made.error();
      tls = std::move(*made);
    }
    if (mesh.pubsub()) {
      // Other shards post wake-ups to a dup of this ring's fd, which the mesh
      // closes only after every shard is gone.
      const int fd = fcntl(uring.raw()->ring_fd, F_DUPFD_CLOEXEC, 0);
      if (fd < 0) return make_error(std::string("dup of the ring fd: ") + std::strerror(errno));
      mesh.set_wake_fd(index, fd);
    }
    arm_accept();
    while (!stop.load(std::memory_order_relaxed)) {
      if (!accept_armed && now_ns() >= accept_retry_ns) arm_accept();
      // Busy: wait for a batch of completions, but never more than
      // batch_wait_ns, which bounds the latency this adds to an echo. A
      // forward waiting for room in a ring is retried as soon.
      const bool busy = last_batch >= 16;
      uint64_t wait_ns = busy || holding ? batch_wait_ns : max_wait_ns;
      if (const uint64_t deadline = drop_deadline(); deadline != 0) {
        const uint64_t now = now_ns();
        wait_ns = std::min(wait_ns, deadline > now ? deadline - now : 0);
      }
      int ret = uring.submit_and_wait(wait_ns, busy ? std::min<unsigned>(64, last_batch / 2) : 1);
      if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY) {
        return make_error(std::string("io_uring_enter failed: ") + std::strerror(-ret));
      }
      last_batch = uring.drain([&](const io_uring_cqe& cqe) { on_completion(cqe); });
      last_batch += receive_forwarded();
      drop_when_due(now_ns());
      end_turn();
    }
    return {};
  }
};

server_shard::server_shard(const server_plan& plan, uint32_t index, int listen_fd,
                           server_counters& counters, server_mesh& mesh,
                           const std::atomic<bool>& stop)
    : _impl(std::make_unique<impl>(plan, index, listen_fd, counters, mesh, stop)) {}

server_shard::~server_shard() = default;

result<void> server_shard::run() {
  return _impl->run();
}

}  // namespace horde::core
