// Publishing over HTTP (--publish-http, docs/pubsub.md): the request a
// publish becomes, how its answer is judged, and what the lifecycle layer
// asks of the pub/sub scenario for its publisher slots. The rendering and
// the judging are pure (unit-tested without sockets).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/plan.hh"

namespace horde::core {

// Appends the HTTP/1.1 request publishing `payload` to `group` (keep-alive,
// Content-Length); the templates' other holes are the run-level variables
// (vars_plan::run_values, in order). False when a value cannot go in the
// request: a space, CR, LF or NUL in the request-target, or a line break
// or NUL in a header.
bool render_http_publish(const http_publish_plan& plan, const http_publish_origin& origin,
                         std::string_view group, std::string_view payload, std::string& out,
                         std::span<const std::string> run_values = {});

// Whether the server took the publish: a status in `expect`, or any 2xx.
bool http_publish_accepted(const http_publish_plan& plan, int status) noexcept;

// What an HTTP publisher slot's connection asks of the scenario.
class http_publish_source {
 public:
  virtual ~http_publish_source() = default;
  // When the slot's next publish is due (0: none now).
  virtual uint64_t next_publish_ns(uint32_t slot) const noexcept = 0;
  // Takes the publish due by `now` (numbered and counted at once) and
  // appends its request to `out`; false when none is due.
  virtual bool take_publish(uint32_t slot, uint64_t now, std::string& out) noexcept = 0;
  // The answer to the slot's request in flight: its status, or 0 for none
  // (timeout, a malformed answer, the socket closed under it).
  virtual void publish_answered(uint32_t slot, int status, uint64_t now) noexcept = 0;
};

}  // namespace horde::core
