// What --protocol fills in where the user left horde's defaults
// (app/protocol_options.hh), with the graphql-ws codec's defaults.
#include "app/protocol_options.hh"

#include <gtest/gtest.h>

#include "proto/codec.hh"

namespace horde::app {
namespace {

run_options graphql_run() {
  run_options o;
  o.protocol = "graphql-ws";
  o.url = "ws://127.0.0.1:4000/";
  o.urls = {o.url};
  return o;
}

TEST(ProtocolOptionsGraphql, CodecTemplatesPathAndSubprotocolFillHordesDefaults) {
  const run_options out = with_protocol_defaults(graphql_run());
  const proto::codec_defaults& d = proto::find_codec("graphql-ws")->defaults;
  EXPECT_EQ(out.url, "ws://127.0.0.1:4000/graphql");
  EXPECT_EQ(out.urls.at(0), "ws://127.0.0.1:4000/graphql");
  EXPECT_EQ(out.subprotocols, d.subprotocols);
  EXPECT_EQ(out.pubsub.subscribe_template, d.subscribe);
  EXPECT_EQ(out.pubsub.publish_template, d.publish);
  EXPECT_EQ(out.pubsub.unsubscribe_template, d.unsubscribe);
}

// graphql-transport-ws acknowledges no subscription: its empty ack replaces
// horde's "ok sub {group}" (which only answers horde's "sub {group}"), so
// subscriptions settle instead of timing out.
TEST(ProtocolOptionsGraphql, CodecWithoutAnAckSettles) {
  const run_options out = with_protocol_defaults(graphql_run());
  EXPECT_EQ(out.pubsub.subscribe_ack, "");
  EXPECT_EQ(out.pubsub.unsubscribe_ack, "");
}

TEST(ProtocolOptionsGraphql, WhatTheUserGaveIsKept) {
  run_options o = graphql_run();
  o.url = "ws://127.0.0.1:4000/api";
  o.urls = {o.url};
  o.subprotocols = {"graphql-ws-custom"};
  o.pubsub.subscribe_template = R"({"id":"{group}","type":"subscribe","payload":{}})";
  o.pubsub.subscribe_ack = R"({"id":"{group}","type":"next"})";
  const run_options out = with_protocol_defaults(o);
  EXPECT_EQ(out.url, "ws://127.0.0.1:4000/api");
  EXPECT_EQ(out.subprotocols, std::vector<std::string>{"graphql-ws-custom"});
  EXPECT_EQ(out.pubsub.subscribe_template, o.pubsub.subscribe_template);
  EXPECT_EQ(out.pubsub.subscribe_ack, o.pubsub.subscribe_ack);
}

TEST(ProtocolOptionsGraphql, BareWebSocketIsUnchanged) {
  run_options o = graphql_run();
  o.protocol = "ws";
  const run_options out = with_protocol_defaults(o);
  EXPECT_EQ(out.url, o.url);
  EXPECT_EQ(out.pubsub.subscribe_ack, "ok sub {group}");
}

}  // namespace
}  // namespace horde::app
