#include "app/report_compression.hh"

#include <fmt/format.h>

#include "app/report_format.hh"

namespace horde::app {
namespace {

std::string_view mode_name(core::compression_mode mode) {
  switch (mode) {
    case core::compression_mode::off:
      return "off";
    case core::compression_mode::offer:
      return "offer";
    case core::compression_mode::require:
      return "require";
  }
  return "off";
}

// Bytes before over bytes after (3.0: a third of the size); 0 with nothing counted.
double ratio(uint64_t before, uint64_t after) {
  return after == 0 ? 0 : double(before) / double(after);
}

double mean_bits(uint64_t sum, uint64_t connections) {
  return connections == 0 ? 0 : double(sum) / double(connections);
}

uint64_t inflate_errors(const core::counter_values& c) {
  return c.failures[size_t(core::failure_reason::protocol_bad_deflate)];
}

}  // namespace

bool compression_run(const run_result& r) {
  const auto& c = r.metrics.counters;
  return (r.plan != nullptr && r.plan->compression != core::compression_mode::off) ||
         c.deflate_negotiated + c.deflate_declined > 0;
}

nlohmann::json compression_json(const run_result& r) {
  const auto& c = r.metrics.counters;
  nlohmann::json j = nlohmann::json::object();
  if (r.plan != nullptr) {
    j["mode"] = mode_name(r.plan->compression);
    j["offer"] = proto::render_offer(r.plan->deflate);
  }
  j["negotiated"] = c.deflate_negotiated;
  j["declined"] = c.deflate_declined;
  j["client_no_context_takeover"] = c.deflate_client_no_context_takeover;
  j["server_no_context_takeover"] = c.deflate_server_no_context_takeover;
  j["client_max_window_bits_mean"] =
      mean_bits(c.deflate_client_window_bits_sum, c.deflate_negotiated);
  j["server_max_window_bits_mean"] =
      mean_bits(c.deflate_server_window_bits_sum, c.deflate_negotiated);
  j["sent"] = {{"messages", c.deflate_messages_sent},
               {"bytes_before", c.deflate_bytes_before},
               {"bytes_on_wire", c.deflate_bytes_sent},
               {"ratio", ratio(c.deflate_bytes_before, c.deflate_bytes_sent)}};
  j["received"] = {{"messages", c.inflate_messages_received},
                   {"bytes_on_wire", c.inflate_bytes_received},
                   {"bytes_after", c.inflate_bytes_after},
                   {"ratio", ratio(c.inflate_bytes_after, c.inflate_bytes_received)}};
  j["inflate_errors"] = inflate_errors(c);
  j["unnegotiated_compressed_frames"] =
      c.failures[size_t(core::failure_reason::protocol_unnegotiated_compression)];
  return j;
}

void print_compression(std::FILE* out, const run_result& r) {
  const auto& c = r.metrics.counters;
  const std::string mode =
      r.plan != nullptr ? fmt::format(" ({})", mode_name(r.plan->compression)) : "";
  fmt::print(out, "  compression  permessage-deflate{} on {} connections, declined by {}\n", mode,
             grouped(c.deflate_negotiated), grouped(c.deflate_declined));
  if (c.deflate_negotiated > 0) {
    fmt::print(out,
               "               windows: ours 2^{:.3g}, the server's 2^{:.3g} (means); no context "
               "takeover: ours on {}, the server's on {}\n",
               mean_bits(c.deflate_client_window_bits_sum, c.deflate_negotiated),
               mean_bits(c.deflate_server_window_bits_sum, c.deflate_negotiated),
               grouped(c.deflate_client_no_context_takeover),
               grouped(c.deflate_server_no_context_takeover));
  }
  fmt::print(out, "               sent {} messages: {} -> {} on the wire (ratio {:.2f})\n",
             grouped(c.deflate_messages_sent), bytes_text(c.deflate_bytes_before),
             bytes_text(c.deflate_bytes_sent), ratio(c.deflate_bytes_before, c.deflate_bytes_sent));
  fmt::print(out, "               received {} messages: {} on the wire -> {} (ratio {:.2f})\n",
             grouped(c.inflate_messages_received), bytes_text(c.inflate_bytes_received),
             bytes_text(c.inflate_bytes_after),
             ratio(c.inflate_bytes_after, c.inflate_bytes_received));
  fmt::print(out, "               inflate errors {}\n", grouped(inflate_errors(c)));
}

}  // namespace horde::app
