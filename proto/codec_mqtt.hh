// MQTT 3.1.1 and 5 over WebSocket (--protocol mqtt; docs/protocols.md#mqtt):
// CONNECT/CONNACK as the handshake, SUBSCRIBE/UNSUBSCRIBE of topics as
// pub/sub groups, PUBLISH at QoS 0 or 1 (PUBACKs timed), deliveries handed
// up as their payload (PUBACKed at QoS 1), PINGREQ when idle. The scenario
// speaks a text view: "SUB t", "UNSUB t", "PUB t payload" out; "SUBACK t",
// "SUBFAIL t", "UNSUBACK t" and delivered payloads in. Any other message
// (an echo stamp, a request) is published to the connection's own topic
// (echo-topic=), subscribed before the first, so echo, request/response and
// streams run through the broker too; or to a service's topic
// (request-topic=) that answers on the connection's own.
#pragma once

#include "proto/codec.hh"

namespace horde::proto {

// The registry's entry for MQTT.
const codec_info& mqtt_codec_info();

}  // namespace horde::proto
