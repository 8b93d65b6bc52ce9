// How a client connection's bytes travel: plain TCP (ws://), TLS (wss://) or
// raw TCP without WebSocket (--raw), chosen once for the shard's plan, as
// wrk's `sock` struct is chosen per connection. The layer above hands it the
// bytes it wants sent (its plaintext out-buffer) and the bytes the ring
// received; it answers with what to put on the wire and the plaintext inside
// what came in. It never calls back up.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "base/result.hh"
#include "core/metrics.hh"
#include "core/out_buffer.hh"
#include "core/plan.hh"
#include "core/tls_transport.hh"

namespace horde::core {

class client_transport final : tls_transport::plaintext_sink {
 public:
  enum class kind : uint8_t { plain, tls, raw };

  // Cold path, in the shard's thread: TLS makes its context here.
  static result<std::unique_ptr<client_transport>> make(const client_plan& plan, size_t slots);

  kind which() const noexcept { return _kind; }
  bool websocket() const noexcept { return _kind != kind::raw; }

  // Before the connect chain: TLS begins its handshake (the ClientHello
  // waits in wire()). False when it failed (failure_of says why).
  bool open(uint32_t slot, std::string_view host) noexcept;
  // The bytes the ring sends for the slot: TLS records, or `plain` itself.
  out_buffer& wire(uint32_t slot, out_buffer& plain) noexcept {
    return _kind == kind::tls ? _tls->wire(slot) : plain;
  }
  // Moves what waits in `plain` into wire() (TLS: sealed into records, once
  // the handshake is done). False when TLS failed.
  bool seal(uint32_t slot, out_buffer& plain) noexcept {
    return _kind != kind::tls || _tls->seal(slot, plain);
  }

  struct received {
    enum class status : uint8_t { more, secured, closed, failed } state = status::more;
    std::span<const uint8_t> plaintext;                // valid until the next feed
    failure_reason reason = failure_reason::io_error;  // when failed
  };
  // Bytes the ring received on the slot. `handshaking`: the slot's TLS
  // handshake has not finished yet (an HTTP answer there means ws:// was meant).
  received feed(uint32_t slot, std::span<const uint8_t> bytes, bool handshaking) noexcept;

  // After a clean WebSocket close: close_notify into wire() (best effort).
  void goodbye(uint32_t slot) noexcept {
    if (_kind == kind::tls) _tls->close_notify(slot);
  }
  bool resumed(uint32_t slot) const noexcept {
    return _kind == kind::tls && _tls->session(slot).resumed();
  }
  // Frees the slot's transport state; only with no send in flight.
  void release(uint32_t slot) noexcept {
    if (_kind == kind::tls) _tls->release(slot);
  }
  // The reason and OpenSSL's words for a failed TLS slot, counted once.
  failure_reason count_failure(uint32_t slot, shard_metrics& metrics) const noexcept;

 private:
  explicit client_transport(kind k) : _kind(k) {}
  void on_plaintext(uint32_t slot, std::span<const uint8_t> bytes) noexcept override;

  kind _kind;
  std::unique_ptr<tls_transport> _tls;
  std::vector<uint8_t> _plaintext;  // what the records of one feed held
  bool _out_of_memory = false;
};

}  // namespace horde::core
