#include "app/protocol_options.hh"

#include <fmt/format.h>

#include <vector>

#include "app/scenario_file.hh"
#include "proto/codec.hh"

namespace horde::app {

namespace {

bool bare_websocket(const std::string& name) {
  return name.empty() || name == "ws";
}

// The URL with `path` in place of a bare "/" (or no path at all).
std::string with_path(const std::string& url, const std::string& path) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const size_t slash = url.find('/', scheme + 3);
  if (slash == std::string::npos) return url + path;
  if (url.size() == slash + 1) return url.substr(0, slash) + path;
  return url;
}

// Counts nothing: the codec made at plan time only checks its options.
class no_stats final : public proto::codec_stats {
 public:
  void count(uint32_t, uint64_t) noexcept override {}
  void time(uint32_t, uint64_t) noexcept override {}
};

std::string known_names() {
  std::string names = "ws";
  for (const proto::codec_info& info : proto::codecs())
    names += ", " + std::string(info.name);
  return names;
}

result<proto::codec_options> parse_options(const proto::codec_info& info,
                                           const std::vector<std::string>& given) {
  proto::codec_options options;
  for (const std::string& item : given) {
    const size_t equals = item.find('=');
    const std::string key = item.substr(0, equals);
    bool known = false;
    std::vector<std::string> keys;
    for (const auto& option : info.options) {
      known = known || option.key == key;
      keys.emplace_back(option.key);
    }
    if (equals == std::string::npos || !known) {
      std::string message = fmt::format("--protocol-option '{}': ", item);
      if (equals == std::string::npos) return make_error(message + "expected KEY=VALUE");
      message += fmt::format("--protocol {} has no option '{}'", info.name, key);
      const std::string near = nearest_key(key, keys);
      if (!near.empty()) message += fmt::format(" (did you mean '{}'?)", near);
      if (keys.empty()) message += " (it takes none)";
      return make_error(message);
    }
    options.emplace_back(key, item.substr(equals + 1));
  }
  return options;
}

}  // namespace

run_options with_protocol_defaults(const run_options& o) {
  if (bare_websocket(o.protocol)) return o;
  const proto::codec_info* info = proto::find_codec(o.protocol);
  if (info == nullptr) return o;  // protocol_into says so
  run_options out = o;
  const proto::codec_defaults& d = info->defaults;
  if (out.subprotocols.empty()) out.subprotocols = d.subprotocols;
  if (!d.path.empty()) {
    for (std::string& url : out.urls)
      url = with_path(url, d.path);
    if (!out.url.empty()) out.url = with_path(out.url, d.path);
  }
  const pubsub_options horde_defaults;
  pubsub_options& ps = out.pubsub;
  auto take = [](std::string& field, const std::string& ours, const std::string& theirs) {
    if (field == ours && !theirs.empty()) field = theirs;
  };
  // A codec's own subscribe brings its own acknowledgement, even none (a
  // protocol without one, such as graphql-transport-ws, settles instead):
  // horde's "ok sub {group}" only ever answers horde's "sub {group}".
  auto take_ack = [](std::string& field, const std::string& ours, const std::string& theirs,
                     const std::string& codec_template) {
    if (field == ours && !codec_template.empty()) field = theirs;
  };
  take(ps.subscribe_template, horde_defaults.subscribe_template, d.subscribe);
  take_ack(ps.subscribe_ack, horde_defaults.subscribe_ack, d.subscribe_ack, d.subscribe);
  take(ps.publish_template, horde_defaults.publish_template, d.publish);
  take(ps.unsubscribe_template, horde_defaults.unsubscribe_template, d.unsubscribe);
  take_ack(ps.unsubscribe_ack, horde_defaults.unsubscribe_ack, d.unsubscribe_ack, d.unsubscribe);
  return out;
}

result<void> protocol_into(const run_options& o, run_plan& out) {
  if (bare_websocket(o.protocol)) {
    if (!o.protocol_options.empty())
      return make_error("--protocol-option needs --protocol (one of: " + known_names() + ")");
    return {};
  }
  const proto::codec_info* info = proto::find_codec(o.protocol);
  if (info == nullptr) {
    std::vector<std::string> names;
    for (const proto::codec_info& c : proto::codecs())
      names.emplace_back(c.name);
    std::string message =
        fmt::format("--protocol '{}': unknown (one of: {})", o.protocol, known_names());
    const std::string near = nearest_key(o.protocol, names);
    if (!near.empty()) message += fmt::format("; did you mean '{}'?", near);
    return make_error(message);
  }
  if (o.raw) return make_error("--protocol speaks inside WebSocket messages: not with --raw");
  if (out.embedded) {
    return make_error(fmt::format(
        "--protocol {} needs a URL: the embedded server speaks bare WebSocket", info->name));
  }
  auto options = parse_options(*info, o.protocol_options);
  if (!options) return options.error();
  no_stats stats;
  const proto::codec_setup trial{*options, {}, stats, 0};
  if (auto made = info->make(trial); !made) {
    return make_error(fmt::format("--protocol {}: {}", info->name, made.error().message));
  }
  core::protocol_plan& plan = out.client.protocol;
  plan.codec = info;
  plan.options = std::move(*options);
  auto& named = out.client.named;
  plan.first_counter = uint32_t(named.counters.size());
  for (std::string_view c : info->counters)
    named.counter(fmt::format("protocol.{}.{}", info->name, c));
  plan.first_histogram = uint32_t(named.histograms.size());
  for (std::string_view h : info->histograms)
    named.histogram(fmt::format("protocol.{}.{}", info->name, h));
  out.notes.push_back(fmt::format("protocol: {} over WebSocket ({})", info->name, info->summary));
  return {};
}

std::string protocols_help() {
  std::string text = "Application protocol inside the WebSocket messages: ws (none, the default)";
  for (const proto::codec_info& info : proto::codecs()) {
    text += fmt::format("; {} ({}", info.name, info.summary);
    if (!info.options.empty()) {
      text += "; options:";
      for (const auto& option : info.options)
        text += fmt::format(" {}= {}", option.key, option.text);
    }
    text += ")";
  }
  return text + ". See docs/protocols.md";
}

}  // namespace horde::app
