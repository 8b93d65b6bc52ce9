#include "core/tls_transport.hh"

namespace horde::core {

tls_failure_cause tls_failure_cause_of(const proto::tls_session& session) noexcept {
  failure_reason reason = failure_reason::tls_error;
  switch (session.failure()) {
    case proto::tls_failure::verify_failed:
      reason = failure_reason::tls_verify_failed;
      break;
    case proto::tls_failure::peer_alert:
      reason = failure_reason::tls_peer_alert;
      break;
    case proto::tls_failure::protocol_error:
      reason = failure_reason::tls_protocol_error;
      break;
    case proto::tls_failure::none:
    case proto::tls_failure::local:
      break;
  }
  // failure_text() views a static, NUL-terminated text (tls_session.hh).
  const char* text = session.failure() == proto::tls_failure::none ? "out of memory for TLS records"
                                                                   : session.failure_text().data();
  return {reason, text};
}

// Points the sink at one slot for one call, and back at what it pointed at
// after it: a call nested in on_plaintext (seal from the plaintext path) must
// not lose the outer feed's routing.
class tls_transport::routed_call {
 public:
  routed_call(wire_sink& sink, out_buffer& wire, plaintext_sink* plain, uint32_t slot) noexcept
      : _sink(sink), _saved(sink.route) {
    sink.route = routing{&wire, plain != nullptr ? plain : _saved.plain, slot, false};
  }
  ~routed_call() { _sink.route = _saved; }
  routed_call(const routed_call&) = delete;
  routed_call& operator=(const routed_call&) = delete;

  bool out_of_memory() const noexcept { return _sink.route.out_of_memory; }

 private:
  wire_sink& _sink;
  routing _saved;
};

void tls_transport::wire_sink::on_plaintext(std::span<const uint8_t> bytes) {
  if (route.plain != nullptr) route.plain->on_plaintext(route.slot, bytes);
}

void tls_transport::wire_sink::write(std::span<const uint8_t> bytes) {
  if (!route.wire->append(bytes)) route.out_of_memory = true;
}

tls_transport::tls_transport(std::unique_ptr<proto::tls_context> context, size_t slots)
    : _context(std::move(context)),
      _sessions(new proto::tls_session[slots]),
      _wire(new out_buffer[slots]) {}

tls_transport::~tls_transport() = default;

result<std::unique_ptr<tls_transport>> tls_transport::client(const proto::tls_options& options,
                                                             size_t slots) {
  auto context = proto::tls_context::make(options);
  if (!context) return context.error();
  return std::unique_ptr<tls_transport>(new tls_transport(std::move(*context), slots));
}

result<std::unique_ptr<tls_transport>> tls_transport::server(
    const proto::tls_server_options& options, size_t slots) {
  auto context = proto::tls_context::make_server(options);
  if (!context) return context.error();
  return std::unique_ptr<tls_transport>(new tls_transport(std::move(*context), slots));
}

bool tls_transport::connect(uint32_t slot, std::string_view host) noexcept {
  routed_call call(_sink, _wire[slot], nullptr, slot);
  return _sessions[slot].start(*_context, host, _sink) == proto::tls_state::handshaking &&
         !call.out_of_memory();
}

bool tls_transport::accept(uint32_t slot) noexcept {
  return _sessions[slot].accept(*_context) == proto::tls_state::handshaking;
}

proto::tls_state tls_transport::feed(uint32_t slot, std::span<const uint8_t> ciphertext,
                                     plaintext_sink& sink) noexcept {
  routed_call call(_sink, _wire[slot], &sink, slot);
  const proto::tls_state state = _sessions[slot].feed(ciphertext, _sink);
  return call.out_of_memory() ? proto::tls_state::failed : state;
}

bool tls_transport::seal(uint32_t slot, out_buffer& plain) noexcept {
  proto::tls_session& session = _sessions[slot];
  if (session.state() == proto::tls_state::failed) return false;
  if (plain.empty() || session.state() != proto::tls_state::open) return true;
  routed_call call(_sink, _wire[slot], nullptr, slot);
  // `plain` is never sent by the ring in a TLS run, so taking its bytes as
  // "in flight" and dropping them at once is safe.
  const auto bytes = plain.start_send();
  const proto::tls_state state = session.write_plain(bytes, _sink);
  plain.finish_send(uint32_t(bytes.size()));
  return state == proto::tls_state::open && !call.out_of_memory();
}

void tls_transport::close_notify(uint32_t slot) noexcept {
  routed_call call(_sink, _wire[slot], nullptr, slot);
  _sessions[slot].shutdown(_sink);
}

void tls_transport::release(uint32_t slot) noexcept {
  _sessions[slot].reset();
  _wire[slot].release();
}

}  // namespace horde::core
