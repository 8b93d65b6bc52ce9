// `horde run --protocol NAME --protocol-option KEY=VALUE`: an application
// protocol over the WebSocket (proto/codec.hh, docs/protocols.md), checked
// and planned before anything starts.
#pragma once

#include <string>

#include "app/run_plan.hh"
#include "base/result.hh"

namespace horde::app {

// The options with what the codec supplies where the user left horde's own
// defaults: its subprotocol offer, its pub/sub templates, its URL path when
// the URL's is "/". The options unchanged without --protocol (or "ws").
run_options with_protocol_defaults(const run_options& o);

// The codec into out.client.protocol, its options checked (a codec made
// once, here, says what is wrong) and its metrics declared.
result<void> protocol_into(const run_options& o, run_plan& out);

// The --help text listing every protocol and its options.
std::string protocols_help();

}  // namespace horde::app
