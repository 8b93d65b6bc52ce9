// TLS for a shard's connections (wss:// on the client, --tls-cert on the
// server), kept beside the connection slots instead of in them: a plain run
// allocates none of it, and a slot stays small. One tls_context per shard
// (resumption shared by the shard's connections, nothing shared between
// shards), one proto::tls_session and one ciphertext out-buffer per slot.
//
// How the engine uses it: the connection's own out-buffer keeps holding
// *plaintext* (upgrade request, frames), written as in a plain run; seal()
// encrypts whatever waits there into wire(slot) once the handshake is done,
// and the engine sends wire(slot) instead. Received ciphertext goes to
// feed(), and the plaintext inside comes back through plaintext_sink, where
// the plain run's receive path takes over. So TLS touches the engine at
// three points: where it sends, where it receives, and where it frees a slot.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "base/result.hh"
#include "core/metrics.hh"
#include "core/out_buffer.hh"
#include "proto/tls_session.hh"

namespace horde::core {

// Why a session failed, as a failure reason and a static text (OpenSSL's
// words, or ours): what tls_counters::fail_with takes. A session that did
// not fail itself (failure() none) failed for memory.
struct tls_failure_cause {
  failure_reason reason;
  const char* text;
};
tls_failure_cause tls_failure_cause_of(const proto::tls_session& session) noexcept;

class tls_transport {
 public:
  class plaintext_sink {
   public:
    // Decrypted bytes of connection `slot`, in order. May call seal() and
    // close_notify() for that slot; never feed() or release().
    virtual void on_plaintext(uint32_t slot, std::span<const uint8_t> bytes) noexcept = 0;

   protected:
    ~plaintext_sink() = default;
  };

  // Cold path, in the shard's thread (OpenSSL then allocates from its heap).
  static result<std::unique_ptr<tls_transport>> client(const proto::tls_options& options,
                                                       size_t slots);
  static result<std::unique_ptr<tls_transport>> server(const proto::tls_server_options& options,
                                                       size_t slots);
  ~tls_transport();
  tls_transport(const tls_transport&) = delete;
  tls_transport& operator=(const tls_transport&) = delete;

  // Client: begins a handshake with `host` (SNI and the name verified); the
  // ClientHello waits in wire(slot). False when it failed (session(slot) says why).
  bool connect(uint32_t slot, std::string_view host) noexcept;
  // Server: the slot waits for a ClientHello. False when it failed.
  bool accept(uint32_t slot) noexcept;

  // Ciphertext received on `slot`. Returns the session's state after it;
  // failed also when memory for wire(slot) ran out (failure() is then none).
  proto::tls_state feed(uint32_t slot, std::span<const uint8_t> ciphertext,
                        plaintext_sink& sink) noexcept;
  // Once the session is open, moves every byte waiting in `plain` into
  // wire(slot) as records (before that, they wait). False when the session
  // failed or memory ran out.
  bool seal(uint32_t slot, out_buffer& plain) noexcept;
  // close_notify into wire(slot) if the session is open (best effort).
  void close_notify(uint32_t slot) noexcept;

  out_buffer& wire(uint32_t slot) noexcept { return _wire[slot]; }
  const proto::tls_session& session(uint32_t slot) const noexcept { return _sessions[slot]; }
  const proto::tls_context& context() const noexcept { return *_context; }

  // Frees the slot's TLS state; only with no send from wire(slot) in flight.
  void release(uint32_t slot) noexcept;

 private:
  // Where the session of the call in progress writes and delivers.
  struct routing {
    out_buffer* wire = nullptr;
    plaintext_sink* plain = nullptr;
    uint32_t slot = 0;
    bool out_of_memory = false;
  };
  struct wire_sink final : proto::tls_sink {
    routing route;
    void on_plaintext(std::span<const uint8_t> bytes) override;
    void write(std::span<const uint8_t> bytes) override;
  };
  class routed_call;

  tls_transport(std::unique_ptr<proto::tls_context> context, size_t slots);

  std::unique_ptr<proto::tls_context> _context;
  std::unique_ptr<proto::tls_session[]> _sessions;  // not movable: the BIO points at them
  std::unique_ptr<out_buffer[]> _wire;
  wire_sink _sink;
};

}  // namespace horde::core
