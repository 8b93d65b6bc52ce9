// `--publish-http`: publishes as HTTP requests from P extra publisher
// connections, while the -c connections subscribe over WebSocket
// (docs/pubsub.md). Turns the flags into the plan's http_publish_plan, its
// target (the publish URL's origin) and its named metrics.
#pragma once

#include "app/pubsub_options.hh"
#include "app/run_plan.hh"
#include "base/result.hh"

namespace horde::app {

// The request and its origin, after the WebSocket target is in place.
result<void> publish_http_into(const run_options& o, run_plan& out);

}  // namespace horde::app
