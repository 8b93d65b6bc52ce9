// Costs of the per-connection and per-message primitives, in memory on one
// thread: prints ns per operation (best of 5 rounds, to damp a shared
// machine's noise). Compare figures from one run, not across runs; for
// repeatable counts run it under `valgrind --tool=callgrind`.
#include <fmt/core.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/histogram.hh"
#include "core/port_allocator.hh"
#include "core/timer_wheel.hh"
#include "proto/accept_key.hh"
#include "proto/mask_source.hh"
#include "proto/permessage_deflate.hh"
#include "proto/stamp.hh"
#include "proto/upgrade_request.hh"
#include "proto/upgrade_response.hh"
#include "proto/ws_session.hh"

namespace {

using namespace horde;

template <class Fn>
double best_ns_per_op(size_t ops, Fn fn) {
  double best = 1e30;
  for (int round = 0; round < 5; ++round) {
    const auto start = std::chrono::steady_clock::now();
    fn(ops);
    const double ns =
        std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
    if (ns / double(ops) < best) best = ns / double(ops);
  }
  return best;
}

volatile uint64_t sink_value;  // keeps results alive

struct null_sink final : proto::ws_sink {
  std::vector<uint8_t> wire;
  uint64_t messages = 0;
  void on_message(proto::ws_opcode, std::span<const uint8_t> body) override {
    messages += body.size();
  }
  void write(std::span<const uint8_t> bytes) override {
    wire.insert(wire.end(), bytes.begin(), bytes.end());
  }
};

void report(const char* name, double ns) {
  fmt::print("  {:<48} {:>10.1f} ns/op\n", name, ns);
}

// A 1 KiB chat message (bench/deflate.sh's) whose counter changes each time,
// so context takeover cannot send a bare back-reference.
std::string chat_message(size_t i) {
  std::string s = "{\"type\":\"chat.message\",\"room\":\"lobby-42\",\"seq\":" + std::to_string(i) +
                  ",\"recent\":[";
  for (size_t k = 0; s.size() < 1100; ++k)
    s += "{\"user\":\"user" + std::to_string((i + k) % 997) +
         "\",\"text\":\"hello everyone, this is message " + std::to_string(k) + "\"},";
  s.resize(1024);
  return s;
}

// permessage-deflate: one message compressed and then inflated (both ends of
// an echo's work in horde), with and without context takeover.
void report_deflate() {
  std::vector<std::string> messages;
  for (size_t i = 0; i < 64; ++i)
    messages.push_back(chat_message(i));
  for (const bool fresh : {false, true}) {
    proto::deflate_shard shard;
    const uint32_t h = shard.open({15, 15, fresh, fresh});
    std::vector<uint8_t> wire;
    report(fresh ? "deflate+inflate 1 KiB JSON, no context takeover"
                 : "deflate+inflate 1 KiB JSON, context takeover",
           best_ns_per_op(20000, [&](size_t n) {
             for (size_t i = 0; i < n; ++i) {
               const std::string& m = messages[i % messages.size()];
               const auto out =
                   shard.compress(h, {reinterpret_cast<const uint8_t*>(m.data()), m.size()});
               wire.assign(out.begin(), out.end());
               shard.inflate(h, wire, 1u << 20);
             }
           }));
    const auto& t = shard.counted();
    fmt::print("  {:<48} {:>10.2f} x\n", "  ratio",
               double(t.bytes_before_compression) / double(t.bytes_compressed));
  }
}

}  // namespace

int main() {
  fmt::print("horde primitives (one thread, in memory, best of 5)\n");

  report("accept_key_for (SHA-1 + base64)", best_ns_per_op(200000, [](size_t n) {
           char out[proto::ws_accept_length];
           for (size_t i = 0; i < n; ++i)
             proto::accept_key_for("dGhlIHNhbXBsZSBub25jZQ==", out);
           sink_value = uint64_t(out[0]);
         }));

  auto request = proto::upgrade_request_template::make({"127.0.0.1", 9000, false, "/"}, {});
  report("upgrade request write", best_ns_per_op(1000000, [&](size_t n) {
           char out[512];
           for (size_t i = 0; i < n; ++i)
             request->write(out, "dGhlIHNhbXBsZSBub25jZQ==");
           sink_value = uint64_t(out[5]);
         }));

  const std::string answer =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
  proto::upgrade_response_parser parser;
  report("upgrade response parse (129 B)", best_ns_per_op(200000, [&](size_t n) {
           for (size_t i = 0; i < n; ++i) {
             parser.reset("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", nullptr);
             size_t consumed = 0;
             parser.feed(answer, consumed);
           }
           sink_value = parser.accepted();
         }));

  // A 64-byte stamped binary message, client -> server -> client, through two
  // wslay sessions that give their contexts back after every message (what
  // the engine does for connections with sparse traffic) or keep them.
  for (bool drop : {false, true}) {
    proto::mask_source masks(1);
    proto::ws_shard_env client_env(proto::ws_role::client, {}, masks);
    proto::ws_shard_env server_env(proto::ws_role::server, {}, masks);
    proto::ws_session client, server;
    null_sink to_server, to_client;
    std::vector<uint8_t> payload(64);
    proto::fill_payload(payload, proto::stamp{1, 2, 0, 3});
    const double ns = best_ns_per_op(100000, [&](size_t n) {
      for (size_t i = 0; i < n; ++i) {
        client.send(client_env, proto::ws_opcode::binary, payload, to_server);
        server.feed(server_env, to_server.wire, to_client);
        to_server.wire.clear();
        server.send(server_env, proto::ws_opcode::binary, payload, to_client);
        client.feed(client_env, to_client.wire, to_server);
        to_client.wire.clear();
        if (drop) {
          client.release_context(client_env);
          server.release_context(server_env);
        }
      }
    });
    report(drop ? "echo round trip, 64 B, contexts pooled each msg"
                : "echo round trip, 64 B, contexts kept",
           ns);
    client.reset(client_env);
    server.reset(server_env);
  }

  core::histogram h;
  report("histogram record", best_ns_per_op(10000000, [&](size_t n) {
           for (size_t i = 0; i < n; ++i)
             h.record((i * 2654435761u) & 0xffffff);
         }));
  report("histogram p99 (scan of buckets)", best_ns_per_op(100, [&](size_t n) {
           for (size_t i = 0; i < n; ++i)
             sink_value = h.value_at_quantile(0.99);
         }));

  std::vector<core::timer_node> nodes(100000);
  core::timer_wheel wheel(0);
  report("timer schedule + fire (100k timers over 1 s)",
         best_ns_per_op(1, [&](size_t) {
           for (size_t i = 0; i < nodes.size(); ++i)
             wheel.schedule(nodes[i], (i * 7919) % 1'000'000'000);
           uint64_t fired = 0;
           for (uint64_t t = 0; t <= 1'000'000'000; t += 1'000'000) {
             wheel.advance(t, [&](core::timer_node&) { ++fired; });
           }
           sink_value = fired;
         }) / double(nodes.size()));

  core::port_allocator ports(8, 1025, 65535, 0, 1, {});
  report("port acquire + release", best_ns_per_op(1000000, [&](size_t n) {
           for (size_t i = 0; i < n; ++i) {
             auto p = ports.acquire();
             ports.release(*p);
           }
         }));
  report_deflate();
  return 0;
}
