#include "core/client_transport.hh"

#include <cstring>

namespace horde::core {
namespace {

// wss://: an HTTP answer where a TLS record should be means a plain port.
bool is_plain_http(std::span<const uint8_t> bytes) noexcept {
  return bytes.size() >= 5 && std::memcmp(bytes.data(), "HTTP/", 5) == 0;
}

}  // namespace

result<std::unique_ptr<client_transport>> client_transport::make(const client_plan& plan,
                                                                 size_t slots) {
  if (plan.raw) return std::unique_ptr<client_transport>(new client_transport(kind::raw));
  if (!plan.tls) return std::unique_ptr<client_transport>(new client_transport(kind::plain));
  auto tls = tls_transport::client(plan.tls_options, slots);
  if (!tls) return tls.error();
  std::unique_ptr<client_transport> made(new client_transport(kind::tls));
  made->_tls = std::move(*tls);
  return made;
}

bool client_transport::open(uint32_t slot, std::string_view host) noexcept {
  return _kind != kind::tls || _tls->connect(slot, host);
}

client_transport::received client_transport::feed(uint32_t slot, std::span<const uint8_t> bytes,
                                                  bool handshaking) noexcept {
  received r;
  if (_kind != kind::tls) {
    r.plaintext = bytes;
    return r;
  }
  if (handshaking && is_plain_http(bytes)) {
    r.state = received::status::failed;
    r.reason = failure_reason::plain_answer_to_tls;
    return r;
  }
  _plaintext.clear();
  _out_of_memory = false;
  const proto::tls_state state = _tls->feed(slot, bytes, *this);
  r.plaintext = _plaintext;
  if (state == proto::tls_state::failed || _out_of_memory) {
    r.state = received::status::failed;
  } else if (state == proto::tls_state::open && handshaking) {
    r.state = received::status::secured;
  } else if (state == proto::tls_state::closed) {
    // close_notify without the WebSocket close before it: the server hung up.
    r.state = received::status::closed;
  }
  return r;
}

void client_transport::on_plaintext(uint32_t, std::span<const uint8_t> bytes) noexcept {
  // Bounded by what one receive buffer's records decrypt to (2 KiB here).
  try {
    _plaintext.insert(_plaintext.end(), bytes.begin(), bytes.end());
  } catch (...) {
    _out_of_memory = true;
  }
}

failure_reason client_transport::count_failure(uint32_t slot,
                                               shard_metrics& metrics) const noexcept {
  const auto [reason, text] = tls_failure_cause_of(_tls->session(slot));
  metrics.counters.tls.fail_with(reason, text);
  return reason;
}

}  // namespace horde::core
