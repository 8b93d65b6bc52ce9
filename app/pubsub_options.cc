#include "app/pubsub_options.hh"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <limits>

#include "app/units.hh"
#include "proto/stamp.hh"

namespace horde::app {

result<proto::message_template> parse_template_flag(std::string_view flag, const std::string& text,
                                                    const std::vector<std::string_view>& holes,
                                                    std::string_view required,
                                                    std::string_view why) {
  auto parsed = proto::message_template::parse(text, holes);
  if (!parsed) return make_error(fmt::format("{}: {}", flag, parsed.error().message));
  if (!parsed->has(required)) {
    return make_error(
        fmt::format("{} needs {{{}}}{}{}", flag, required, why.empty() ? "" : ": ", why));
  }
  return parsed;
}

namespace {

// Churn needs both acknowledgements: a leave's tells when deliveries stop
// being owed, a rejoin's when they are owed again (docs/pubsub.md).
result<void> churn_plan(const pubsub_options& o, core::pubsub_plan& plan) {
  if (o.churn.empty()) return {};
  auto rate = parse_rate_per_second(o.churn);
  if (!rate) return make_error("--churn: " + rate.error().message);
  plan.churn_rate = *rate;
  if (plan.churn_rate <= 0) return {};
  if (plan.subscribe_ack.empty()) {
    return make_error("--churn needs --subscribe-ack: a rejoin counts from its acknowledgement");
  }
  auto unsubscribe =
      parse_template_flag("--unsubscribe-template", o.unsubscribe_template, {"group"}, "group");
  if (!unsubscribe) return make_error(unsubscribe.error().message);
  plan.unsubscribe = std::move(*unsubscribe);
  auto ack = parse_template_flag("--unsubscribe-ack", o.unsubscribe_ack, {"group"}, "group",
                                 "a leave is over when the server says so");
  if (!ack) return make_error(ack.error().message);
  plan.unsubscribe_ack = std::move(*ack);
  return {};
}

// Publishers: a count or a percentage; by default 1% of the connections,
// at least one, never more than the groups (each group has one owner).
result<uint64_t> publishers_of(const std::string& flag, uint64_t connections, uint64_t groups) {
  uint64_t publishers = std::max<uint64_t>(1, connections / 100);
  if (!flag.empty()) {
    if (flag.back() == '%') {
      const double percent = std::atof(flag.c_str());
      if (percent <= 0 || percent > 100) return make_error("--publishers N% wants 0 < N <= 100");
      publishers = std::max<uint64_t>(1, uint64_t(double(connections) * percent / 100.0));
    } else {
      auto n = parse_count(flag);
      if (!n) return make_error("--publishers: " + n.error().message);
      if (*n == 0) return make_error("--publishers must be at least 1");
      publishers = *n;
    }
  }
  return std::min({publishers, connections, groups});
}

}  // namespace

result<pubsub_setup> make_pubsub_plan(const pubsub_options& o, uint64_t connections,
                                      const message_rate& rate, uint64_t payload_size) {
  pubsub_setup setup;
  core::pubsub_plan& plan = setup.plan;
  auto groups = parse_count(o.groups);
  if (!groups) return make_error("--groups: " + groups.error().message);
  // Group numbers ride in 32-bit slots (subscription state, ownership).
  if (*groups > std::numeric_limits<uint32_t>::max()) {
    return make_error("--groups is at most 4294967295");
  }
  plan.layout.groups = *groups;
  if (o.per_connection == 0) return make_error("--subscriptions must be at least 1");
  if (o.per_connection > 10000) return make_error("--subscriptions is at most 10000");
  if (o.per_connection > *groups) {
    return make_error(fmt::format(
        "--subscriptions {} is more than --groups {}: a connection subscribes to distinct groups",
        o.per_connection, *groups));
  }
  plan.layout.per_connection = o.per_connection;
  if (o.zipf < 0) return make_error("--zipf wants an exponent above 0 (1.0 is classic Zipf)");
  plan.layout.spread = o.zipf > 0 ? core::popularity::zipf : core::popularity::uniform;
  plan.layout.zipf_exponent = o.zipf > 0 ? o.zipf : 1.0;

  auto publishers = publishers_of(o.publishers, connections, *groups);
  if (!publishers) return make_error(publishers.error().message);
  plan.layout.publishers = *publishers;

  auto names = proto::group_names::make(o.group_pattern);
  if (!names) return make_error("--group-pattern: " + names.error().message);
  plan.names = std::move(*names);
  auto subscribe =
      parse_template_flag("--subscribe-template", o.subscribe_template, {"group"}, "group");
  if (!subscribe) return make_error(subscribe.error().message);
  plan.subscribe = std::move(*subscribe);
  auto ack = proto::message_template::parse(o.subscribe_ack, {"group"});
  if (!ack) return make_error("--subscribe-ack: " + ack.error().message);
  if (!ack->empty() && !ack->has("group")) {
    return make_error("--subscribe-ack needs {group} (or '' for none: see --settle)");
  }
  plan.subscribe_ack = std::move(*ack);
  auto publish = proto::message_template::parse(o.publish_template, {"group", "payload"});
  if (!publish) return make_error("--publish-template: " + publish.error().message);
  if (!publish->has("group") || !publish->has("payload")) {
    return make_error("--publish-template needs {group} and {payload}");
  }
  plan.publish = std::move(*publish);
  auto timeout = parse_duration_ns(o.subscribe_timeout);
  if (!timeout) return make_error("--subscribe-timeout: " + timeout.error().message);
  plan.subscribe_timeout_ns = *timeout;
  auto settle = parse_duration_ns(o.settle);
  if (!settle) return make_error("--settle: " + settle.error().message);
  plan.settle_ns = *settle;

  if (auto churn = churn_plan(o, plan); !churn) return make_error(churn.error().message);

  plan.publish_rate = rate.per(*publishers);
  plan.publish_binary = o.publish_binary;
  plan.payload_size = uint32_t(std::max<uint64_t>(payload_size, proto::stamp_text_size));

  setup.shared = std::make_unique<core::pubsub_shared>(*groups);
  plan.shared = setup.shared.get();
  return setup;
}

}  // namespace horde::app
