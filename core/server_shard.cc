#include "core/server_shard.hh"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "core/buffer_pool.hh"
#include "core/clock.hh"
#include "core/out_buffer.hh"
#include "core/ring.hh"
#include "core/uring_compat.hh"
#include "core/user_data.hh"
#include "proto/mask_source.hh"
#include "proto/upgrade_server.hh"
#include "proto/ws_session.hh"

namespace horde::core {
namespace {

constexpr uint16_t buffer_group = 1;
constexpr unsigned receive_buffers = 512;
constexpr unsigned receive_buffer_size = 2048;
constexpr uint64_t max_wait_ns = 100'000'000;
constexpr uint32_t listener_slot = ~0u;  // user_data slot of the accept
const int one = 1;  // a setsockopt value the kernel reads after the call returns
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
};

static_assert(sizeof(peer) <= 64);

void relaxed_add(std::atomic<uint64_t>& counter, uint64_t n = 1) noexcept {
  counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}
void relaxed_sub(std::atomic<uint64_t>& counter) noexcept {
  counter.store(counter.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
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

struct server_shard::impl final : proto::ws_sink {
  const server_plan& plan;
  const uint32_t index;
  const int listen_fd;
  server_counters& counters;
  const std::atomic<bool>& stop;

  ring uring;
  buffer_pool buffers;
  proto::mask_source masks;
  proto::ws_shard_env ws_env;
  std::vector<peer> peers;
  std::vector<proto::upgrade_request_parser*> parser_pool;
  bool accept_armed = false;
  unsigned last_batch = 0;  // completions the last loop turn handled
  uint64_t accept_retry_ns = 0;

  // Echoes collected while wslay is delivering, sent once it returns:
  // queueing a message from inside wslay's own callback is re-entrant.
  struct echo {
    proto::ws_opcode opcode;
    std::vector<uint8_t> body;
  };
  std::vector<echo> echoes;
  size_t echo_count = 0;
  peer* current = nullptr;

  impl(const server_plan& p, uint32_t i, int fd, server_counters& c, const std::atomic<bool>& s)
      : plan(p),
        index(i),
        listen_fd(fd),
        counters(c),
        stop(s),
        ws_env(proto::ws_role::server, proto::ws_limits{}, masks, 64),
        peers(p.file_slots_per_shard) {}

  ~impl() {
    for (auto& p : peers)
      p.session.reset(ws_env);
    for (auto* parser : parser_pool)
      delete parser;
  }

  uint32_t slot_of(const peer& p) const noexcept { return uint32_t(&p - peers.data()); }

  io_uring_sqe* sqe_for(peer& p, op operation) noexcept {
    io_uring_sqe* e = uring.sqe();
    io_uring_sqe_set_data64(e, pack({slot_of(p), p.generation, operation}));
    ++p.pending;
    return e;
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

  void flush(peer& p) noexcept {
    if (p.out.sending() || p.out.empty() || p.state == peer_state::tearing) return;
    auto bytes = p.out.start_send();
    io_uring_sqe* e = sqe_for(p, op::send);
    io_uring_prep_send(e, int(slot_of(p)), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    e->flags |= IOSQE_FIXED_FILE;
  }

  void teardown(peer& p) noexcept {
    if (p.state == peer_state::tearing || p.state == peer_state::free) return;
    if (p.state == peer_state::open) relaxed_sub(counters.open_now);
    p.state = peer_state::tearing;
    const uint32_t slot = slot_of(p);
    // A pending multishot recv keeps the socket alive after its slot closes:
    // cancel it first (by exact user_data, a hash lookup; by descriptor would
    // walk every pending request), hard-linked so the close runs either way.
    io_uring_sqe* e = sqe_for(p, op::cancel);
    io_uring_prep_cancel64(e, pack({slot, p.generation, op::recv}), 0);
    e->flags |= IOSQE_IO_HARDLINK;
    e = sqe_for(p, op::close);
    io_uring_prep_close_direct(e, slot);
  }

  // Parsers (8 KiB) serve handshakes only: a few are kept, the rest freed.
  void return_parser(peer& p) noexcept {
    if (p.handshake == nullptr) return;
    if (parser_pool.size() < 64) {
      parser_pool.push_back(p.handshake);
    } else {
      delete p.handshake;
    }
    p.handshake = nullptr;
  }

  void release(peer& p) noexcept {
    p.out.release();
    p.session.reset(ws_env);
    return_parser(p);
    p.close_after_send = false;
    p.state = peer_state::free;
    ++p.generation;
  }

  // ---- ws_sink -------------------------------------------------------------

  void on_message(proto::ws_opcode opcode, std::span<const uint8_t> body) override {
    relaxed_add(counters.messages_in);
    if (plan.mode != server_mode::echo) return;
    if (echo_count == echoes.size()) echoes.emplace_back();
    echo& slot = echoes[echo_count++];
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
    if (parser_pool.empty()) parser_pool.push_back(new proto::upgrade_request_parser());
    p.handshake = parser_pool.back();
    parser_pool.pop_back();
    p.handshake->reset();
    arm_recv(p);
  }

  void on_completion(const io_uring_cqe& cqe) noexcept {
    const op_tag tag = unpack(cqe.user_data);
    if (tag.operation == op::accept) {
      on_accept(cqe);
      return;
    }
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
          p.out.finish_send(0);
          teardown(p);
          break;
        }
        p.out.finish_send(uint32_t(cqe.res));
        flush(p);
        if (p.close_after_send && p.out.empty()) teardown(p);
        break;
      default:
        break;
    }
    if (p.pending == 0 && p.state == peer_state::tearing) release(p);
  }

  void on_bytes(peer& p, std::span<const uint8_t> bytes) noexcept {
    if (plan.mode == server_mode::raw_echo) {
      if (p.state != peer_state::open) return;
      if (!p.out.append(bytes)) p.close_after_send = true;
      flush(p);
      return;
    }
    if (p.state == peer_state::handshake) {
      size_t consumed = 0;
      auto status = p.handshake->feed(
          std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), consumed);
      if (status == proto::parse_status::need_more) return;
      std::string answer;
      if (status == proto::parse_status::invalid ||
          p.handshake->failure() != proto::upgrade_request_failure::none) {
        relaxed_add(counters.rejected);
        answer = proto::build_error_response(400, "Bad Request");
        p.close_after_send = true;
      } else {
        answer = proto::build_upgrade_response(p.handshake->key());
        relaxed_add(counters.upgraded);
        relaxed_add(counters.open_now);
        p.state = peer_state::open;
      }
      return_parser(p);
      p.out.append({reinterpret_cast<const uint8_t*>(answer.data()), answer.size()});
      flush(p);
      if (p.state != peer_state::open) return;
      bytes = bytes.subspan(consumed);
      if (bytes.empty()) return;
    }
    if (p.state != peer_state::open) return;
    current = &p;
    echo_count = 0;
    auto state = p.session.feed(ws_env, bytes, *this);
    for (size_t i = 0; i < echo_count && state == proto::ws_state::open; ++i) {
      state = p.session.send(ws_env, echoes[i].opcode, echoes[i].body, *this);
      relaxed_add(counters.messages_out);
    }
    current = nullptr;
    if (state == proto::ws_state::failed) {
      relaxed_add(counters.protocol_errors);
      p.close_after_send = true;  // wslay queued a close with the reason
    } else if (state == proto::ws_state::closed) {
      p.close_after_send = true;  // our close reply goes out, then TCP closes
    } else if (p.session.at_boundary()) {
      p.session.release_context(ws_env);
    }
    flush(p);
    if (p.close_after_send && p.out.empty() && !p.out.sending()) teardown(p);
  }

  result<void> run() {
    ring_options options;
    options.file_table_slots = uint32_t(peers.size());
    if (auto r = uring.init(options); !r) return r;
    if (auto r = buffers.init(uring.raw(), buffer_group, receive_buffers, receive_buffer_size);
        !r) {
      return r;
    }
    arm_accept();
    while (!stop.load(std::memory_order_relaxed)) {
      if (!accept_armed && now_ns() >= accept_retry_ns) arm_accept();
      // Busy: wait for a batch of completions, but never more than
      // batch_wait_ns, which bounds the latency this adds to an echo.
      const bool busy = last_batch >= 16;
      int ret = uring.submit_and_wait(busy ? batch_wait_ns : max_wait_ns,
                                      busy ? std::min<unsigned>(64, last_batch / 2) : 1);
      if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY) {
        return make_error(std::string("io_uring_enter failed: ") + std::strerror(-ret));
      }
      last_batch = uring.drain([&](const io_uring_cqe& cqe) { on_completion(cqe); });
    }
    return {};
  }
};

server_shard::server_shard(const server_plan& plan, uint32_t index, int listen_fd,
                           server_counters& counters, const std::atomic<bool>& stop)
    : _impl(std::make_unique<impl>(plan, index, listen_fd, counters, stop)) {}

server_shard::~server_shard() = default;

result<void> server_shard::run() {
  return _impl->run();
}

}  // namespace horde::core
