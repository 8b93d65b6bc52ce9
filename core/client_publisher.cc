// HTTP publishers (--publish-http, docs/pubsub.md), the lifecycle layer's
// side: a publisher slot connects (TCP, TLS with the shard's transport) to
// the publish URL's origin and stays in `requesting`, sending each publish
// the scenario has due as one HTTP/1.1 request on the kept-alive socket.
// One request in flight at most (no pipelining): a publish due meanwhile
// waits, still timed from its scheduled time. A server that closes the
// socket between requests is not a failure: the slot reconnects.
#include <cstring>

#include "core/client_connections.hh"

namespace horde::core {

// Nothing in flight: sends the publish due now, if any, or sleeps until the
// next one is due.
void client_connections::publisher_ready(connection& c, uint64_t now) noexcept {
  c.deadline_ns = 0;
  _scratch.clear();
  if (!_sending || !_publish->take_publish(slot_of(c), now, _scratch)) {
    schedule(c);
    return;
  }
  if (c.http == nullptr) c.http = _http_parsers.take();
  proto::http_response_limits limits;
  limits.keep = false;  // a publish's answer is judged by its status only
  c.http->reset(limits);
  uint8_t* request = c.out.prepare(uint32_t(_scratch.size()));
  if (request == nullptr) {
    _publish->publish_answered(slot_of(c), 0, now);
    teardown(slot_of(c), failure_reason::io_error);
    return;
  }
  std::memcpy(request, _scratch.data(), _scratch.size());
  c.out.commit(uint32_t(_scratch.size()));
  c.phase_start_ns = now;
  c.deadline_ns = now + _plan.pubsub.http.timeout_ns;
  schedule(c);
  flush(c);
}

void client_connections::feed_publish(connection& c, std::span<const uint8_t> bytes,
                                      uint64_t now) noexcept {
  if (c.deadline_ns == 0 || c.http == nullptr) {
    // Bytes with no request in flight: the server broke HTTP/1.1.
    teardown(slot_of(c), failure_reason::publish_http_invalid);
    return;
  }
  size_t consumed = 0;
  const auto status = c.http->feed(
      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), consumed);
  if (status == proto::parse_status::need_more) return;
  if (status == proto::parse_status::invalid || consumed != bytes.size()) {
    _publish->publish_answered(slot_of(c), 0, now);
    teardown(slot_of(c), failure_reason::publish_http_invalid);
    return;
  }
  _publish->publish_answered(slot_of(c), c.http->status_code(), now);
  c.deadline_ns = 0;
  c.was_open = true;  // answered: a later reconnect starts its backoff afresh
  c.failures_in_row = 0;
  if (!c.http->keep_alive()) {
    teardown(slot_of(c), std::nullopt);  // reconnects (counted) if the run goes on
    return;
  }
  publisher_ready(c, now);
}

void client_connections::publisher_timer(connection& c, uint64_t now) noexcept {
  if (c.deadline_ns != 0 && now >= c.deadline_ns) {
    if (const uint32_t timeouts = _plan.pubsub.http.timeouts; timeouts != no_metric)
      _metrics.counters.named[timeouts].add();
    _publish->publish_answered(slot_of(c), 0, now);
    teardown(slot_of(c), failure_reason::publish_http_timeout);
    return;
  }
  if (c.deadline_ns == 0) {
    publisher_ready(c, now);
    return;
  }
  schedule(c);
}

}  // namespace horde::core
