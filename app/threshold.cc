#include "app/threshold.hh"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <string_view>

#include "app/report_format.hh"
#include "base/edit_distance.hh"
#include "core/plan.hh"
#include "proto/codec.hh"

namespace horde::app {
namespace {

struct latency_family {
  std::string_view name;
  core::histogram core::latency_set::*histogram;
};

constexpr latency_family latency_families[] = {
    {"rtt", &core::latency_set::round_trip},    {"connect", &core::latency_set::connect},
    {"tls", &core::latency_set::tls_handshake}, {"upgrade", &core::latency_set::upgrade},
    {"send_lag", &core::latency_set::send_lag}, {"subscribe", &core::latency_set::subscribe},
    {"fanout", &core::latency_set::fanout},     {"fanout_last", &core::latency_set::fanout_last},
};

// A count, and the whole a `%` limit takes it as a share of (0: it has none).
struct count_figure {
  uint64_t value = 0;
  uint64_t whole = 0;
};

// Every count the grammar knows: whether it has a whole (takes `%`).
struct count_name {
  std::string_view name;
  bool has_whole;
};

constexpr count_name count_names[] = {
    {"connections.attempted", false},
    {"connections.opened", true},
    {"connections.ready", true},
    {"connections.failed", true},
    {"connections.peak_open", false},
    {"connections.closed_clean", true},
    {"connections.close_timed_out", true},
    {"connections.close_reset", true},
    {"messages.sent", false},
    {"messages.received", false},
    {"messages.answered", true},
    {"messages.unanswered", true},
    {"messages.duplicated", true},
    {"messages.corrupted", true},
    {"messages.truncated", true},
    {"pubsub.expected", false},
    {"pubsub.delivered", true},
    {"pubsub.lost", true},
    {"pubsub.duplicated", true},
    {"pubsub.reordered", true},
    {"errors", true},
};

uint64_t minus(uint64_t a, uint64_t b) {
  return a > b ? a - b : 0;
}

// Messages sent and deliveries owed that a missing answer makes a loss: all
// of them at the end; live, those of the previous second's counters.
uint64_t sent_settled(const threshold_input& in) {
  return in.settled ? in.settled->messages_sent : in.counters->messages_sent;
}
uint64_t owed_settled(const threshold_input& in) {
  return in.settled ? in.settled->pubsub.owed() : in.counters->pubsub.owed();
}

// The run has a --protocol: its codec's metrics are among the named ones.
bool protocol_run(const threshold_input& in) {
  if (in.names == nullptr) return false;
  for (const auto& name : in.names->counters)
    if (name.rfind("protocol.", 0) == 0) return true;
  return false;
}

count_figure count_of(std::string_view name, const threshold_input& in) {
  const auto& c = *in.counters;
  const auto& p = c.pubsub;
  const uint64_t sent = sent_settled(in), owed = owed_settled(in);
  const uint64_t unanswered = minus(sent, c.messages_answered);
  const uint64_t lost = minus(owed, p.unique());
  if (name == "connections.attempted") return {c.attempts, 0};
  if (name == "connections.opened") return {c.upgraded, c.attempts};
  if (name == "connections.ready")
    return {protocol_run(in) ? c.protocol_ready : c.upgraded, c.attempts};
  if (name == "connections.failed") return {c.failures_total(), c.attempts};
  if (name == "connections.peak_open") return {c.open_peak, 0};
  if (name == "connections.closed_clean") return {c.closed_clean, c.upgraded};
  if (name == "connections.close_timed_out") return {c.close_timed_out, c.upgraded};
  if (name == "connections.close_reset") return {c.close_reset, c.upgraded};
  if (name == "messages.sent") return {c.messages_sent, 0};
  if (name == "messages.received") return {c.messages_received, 0};
  if (name == "messages.answered") return {c.messages_answered, c.messages_sent};
  if (name == "messages.unanswered") return {unanswered, sent};
  if (name == "messages.duplicated") return {c.messages_duplicated, c.messages_sent};
  if (name == "messages.corrupted") return {c.messages_corrupted, c.messages_sent};
  if (name == "messages.truncated") return {c.messages_truncated, c.messages_sent};
  if (name == "pubsub.expected") return {p.owed(), 0};
  if (name == "pubsub.delivered") return {p.unique(), p.owed()};
  if (name == "pubsub.lost") return {lost, owed};
  if (name == "pubsub.duplicated") return {p.duplicates, p.owed()};
  if (name == "pubsub.reordered") return {p.late, p.owed()};
  // errors: in pub/sub the messages sent are subscribes and publishes,
  // which nobody answers; what can go wrong there is a delivery.
  if (in.pubsub) return {c.failures_total() + lost, c.attempts + owed};
  return {c.failures_total() + unanswered + c.messages_corrupted + c.messages_truncated,
          c.attempts + sent};
}

const count_name* find_count(std::string_view name) {
  for (const auto& n : count_names)
    if (n.name == name) return &n;
  return nullptr;
}

// "rtt.p99" -> the family and the statistic ("p99", "max", "mean");
// "protocol.mqtt.puback.p99" -> the codec's histogram, by its name.
struct latency_name {
  const latency_family* family = nullptr;
  std::string named;    // without a family: the named histogram ("protocol.mqtt.puback")
  double quantile = 0;  // 0..1; max and mean have none
  bool max = false, mean = false;
};

// "p99", "p99.9", "max", "mean" into `out`; false for anything else.
bool read_stat(const std::string& stat, latency_name& out) {
  out.max = stat == "max";
  out.mean = stat == "mean";
  if (out.max || out.mean) return true;
  if (stat.size() < 2 || stat[0] != 'p' || !std::isdigit(static_cast<unsigned char>(stat[1])))
    return false;
  char* end = nullptr;
  const double percent = std::strtod(stat.c_str() + 1, &end);
  if (*end != '\0' || !(percent > 0 && percent < 100)) return false;
  out.quantile = percent / 100;
  return true;
}

// A codec's metric as a threshold name: "protocol.<codec>.<metric>"
// (client_plan::named's own name for it, app/protocol_options.cc).
std::string protocol_metric(std::string_view codec, std::string_view metric) {
  return fmt::format("protocol.{}.{}", codec, metric);
}

std::optional<latency_name> find_protocol_latency(std::string_view name) {
  if (name.rfind("protocol.", 0) != 0) return std::nullopt;
  for (const proto::codec_info& codec : proto::codecs()) {
    for (std::string_view h : codec.histograms) {
      latency_name out;
      out.named = protocol_metric(codec.name, h);
      if (name.size() <= out.named.size() + 1 || name.rfind(out.named + ".", 0) != 0) continue;
      if (read_stat(std::string(name.substr(out.named.size() + 1)), out)) return out;
    }
  }
  return std::nullopt;
}

std::optional<latency_name> find_latency(std::string_view name) {
  const size_t dot = name.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  latency_name out;
  for (const auto& f : latency_families)
    if (f.name == name.substr(0, dot)) out.family = &f;
  if (!out.family) return find_protocol_latency(name);
  if (!read_stat(std::string(name.substr(dot + 1)), out)) return std::nullopt;
  return out;
}

// A codec's counter ("protocol.mqtt.publishes_refused"): a plain count.
bool is_protocol_counter(std::string_view name) {
  return is_protocol_metric(name, false);
}

// The run's named histogram or counter (client_plan::named, or a saved
// result's scenario section); none when the run has no such metric.
const core::histogram* named_histogram(const std::string& name, const threshold_input& in) {
  if (!in.names) return nullptr;
  const auto& names = in.names->histograms;
  const size_t at = size_t(std::find(names.begin(), names.end(), name) - names.begin());
  return at < in.latency->named.size() ? &in.latency->named[at] : nullptr;
}

std::optional<uint64_t> named_counter(const std::string& name, const threshold_input& in) {
  if (!in.names) return std::nullopt;
  const auto& names = in.names->counters;
  const size_t at = size_t(std::find(names.begin(), names.end(), name) - names.begin());
  if (at >= in.counters->named.size()) return std::nullopt;
  return in.counters->named[at];
}

std::string nearest_name(std::string_view wrong) {
  std::string best;
  size_t best_distance = SIZE_MAX;
  for (const auto& name : threshold_names()) {
    const size_t d = edit_distance(wrong, name);
    if (d < best_distance) {
      best_distance = d;
      best = name;
    }
  }
  return best;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

// The operator at `at`, longest first; its length, 0 when there is none.
size_t read_op(std::string_view s, compare_op& op) {
  struct spelling {
    std::string_view text;
    compare_op op;
  };
  static constexpr spelling ops[] = {
      {"<=", compare_op::less_equal}, {">=", compare_op::greater_equal}, {"==", compare_op::equal},
      {"!=", compare_op::not_equal},  {"<", compare_op::less},           {">", compare_op::greater},
  };
  for (const auto& o : ops) {
    if (s.substr(0, o.text.size()) == o.text) {
      op = o.op;
      return o.text.size();
    }
  }
  return 0;
}

// The limit: a number and its unit, checked against what the metric is.
result<void> read_value(std::string_view text, bool latency, bool has_whole, threshold& t) {
  const std::string value(text);
  char* end = nullptr;
  const double number = std::strtod(value.c_str(), &end);
  if (value.empty() || end == value.c_str() || !std::isfinite(number) || number < 0)
    return make_error("'" + value + "' is not a value: expected e.g. 50ms, 0.1%, 1000 or 10k");
  const std::string unit(end);
  const auto time_scale = [&]() -> double {
    if (unit == "ns") return 1;
    if (unit == "us") return 1e3;
    if (unit == "ms") return 1e6;
    if (unit == "s") return 1e9;
    return 0;
  }();
  if (latency) {
    if (time_scale == 0)
      return make_error(t.metric + " is a time: give its unit (ns, us, ms or s), e.g. 50ms");
    t.limit = number * time_scale;
    t.unit = figure_unit::ns;
    return {};
  }
  if (time_scale != 0) return make_error(t.metric + " is a count, not a time: drop '" + unit + "'");
  if (unit == "%") {
    if (!has_whole)
      return make_error(t.metric + " is not a share of anything: give a count, not a %");
    t.limit = number / 100;
    t.unit = figure_unit::ratio;
    return {};
  }
  double scale = 0;
  if (unit.empty()) scale = 1;
  if (unit == "k" || unit == "K") scale = 1e3;
  if (unit == "M") scale = 1e6;
  if (scale == 0)
    return make_error("unknown unit '" + unit + "' in '" + value +
                      "': use ns/us/ms/s for times, % for shares, k/M for counts");
  t.limit = number * scale;
  t.unit = figure_unit::count;
  return {};
}

bool compare(double value, compare_op op, double limit) {
  switch (op) {
    case compare_op::less:
      return value < limit;
    case compare_op::less_equal:
      return value <= limit;
    case compare_op::greater:
      return value > limit;
    case compare_op::greater_equal:
      return value >= limit;
    case compare_op::equal:
      return value == limit;
    case compare_op::not_equal:
      return value != limit;
  }
  return false;
}

threshold_outcome judge(const threshold& check, const threshold_input& in) {
  threshold_outcome out;
  out.check = check;
  out.value = measure(check, in);
  out.passed = out.value && compare(*out.value, check.op, check.limit);
  return out;
}

}  // namespace

std::vector<std::string> threshold_names() {
  std::vector<std::string> names;
  for (const auto& f : latency_families) {
    for (const char* stat : {"p50", "p90", "p95", "p99", "p99.9", "max", "mean"})
      names.push_back(fmt::format("{}.{}", f.name, stat));
  }
  for (const auto& c : count_names)
    names.emplace_back(c.name);
  // Every codec's: a run checks it has that codec (threshold_fits_protocol).
  for (const proto::codec_info& codec : proto::codecs()) {
    for (std::string_view c : codec.counters)
      names.push_back(protocol_metric(codec.name, c));
    for (std::string_view h : codec.histograms) {
      for (const char* stat : {"p50", "p90", "p95", "p99", "p99.9", "max", "mean"})
        names.push_back(fmt::format("{}.{}", protocol_metric(codec.name, h), stat));
    }
  }
  return names;
}

bool is_protocol_metric(std::string_view name, bool histogram) {
  if (name.rfind("protocol.", 0) != 0) return false;
  for (const proto::codec_info& codec : proto::codecs()) {
    for (std::string_view metric : histogram ? codec.histograms : codec.counters)
      if (name == protocol_metric(codec.name, metric)) return true;
  }
  return false;
}

result<void> threshold_fits_protocol(const threshold& check, std::string_view protocol) {
  std::string_view metric = check.metric;
  if (metric.rfind("protocol.", 0) != 0) return {};
  metric.remove_prefix(std::string_view("protocol.").size());
  const std::string_view codec = metric.substr(0, metric.find('.'));
  if (codec == protocol) return {};
  if (protocol == "ws")
    return make_error(fmt::format("{} is a metric of --protocol {}, and this run has no --protocol",
                                  check.metric, codec));
  return make_error(fmt::format(
      "{} is a metric of --protocol {}, and this run's --protocol is {}: its metrics are "
      "protocol.{}.* (the report and docs/protocols.md list them)",
      check.metric, codec, protocol, protocol));
}

result<threshold> parse_threshold(const std::string& text) {
  threshold t;
  t.expr = std::string(trim(text));
  std::string_view rest = t.expr;
  constexpr std::string_view abort_suffix = ":abort";
  if (rest.size() >= abort_suffix.size() &&
      rest.substr(rest.size() - abort_suffix.size()) == abort_suffix) {
    t.abort = true;
    rest = trim(rest.substr(0, rest.size() - abort_suffix.size()));
  }
  const size_t at = rest.find_first_of("<>=!");
  if (at == std::string_view::npos)
    return make_error("no comparison: expected e.g. 'rtt.p99<50ms' (operators < <= > >= == !=)");
  t.metric = std::string(trim(rest.substr(0, at)));
  const size_t op_length = read_op(rest.substr(at), t.op);
  if (op_length == 0)
    return make_error("bad operator at '" + std::string(rest.substr(at)) +
                      "': use < <= > >= == or != ('=' alone is not one)");
  if (t.metric.empty()) return make_error("no name before the operator, e.g. 'rtt.p99<50ms'");
  const auto latency = find_latency(t.metric);
  const count_name* count = latency ? nullptr : find_count(t.metric);
  if (!latency && !count && !is_protocol_counter(t.metric))
    return make_error("unknown name '" + t.metric + "'; did you mean '" + nearest_name(t.metric) +
                      "'? (horde run --help lists them)");
  if (auto read = read_value(trim(rest.substr(at + op_length)), bool(latency),
                             count && count->has_whole, t);
      !read)
    return read.error();
  // Live, a count only grows: one that must reach a floor fails every
  // second until it does, so it would stop every run in its first second.
  if (t.abort && !latency && t.unit == figure_unit::count &&
      (t.op == compare_op::greater || t.op == compare_op::greater_equal))
    return make_error(t.metric +
                      " only grows during a run: ':abort' on a floor (> or >=) would "
                      "stop the run before it could be reached; drop ':abort'");
  return t;
}

std::optional<double> measure(const threshold& check, const threshold_input& in) {
  if (const auto latency = find_latency(check.metric)) {
    const core::histogram* h = latency->family ? &(in.latency->*(latency->family->histogram))
                                               : named_histogram(latency->named, in);
    if (h == nullptr || h->count() == 0) return std::nullopt;
    if (latency->max) return double(h->max());
    if (latency->mean) return h->mean();
    return double(h->value_at_quantile(latency->quantile));
  }
  if (is_protocol_counter(check.metric)) {
    const auto value = named_counter(check.metric, in);
    return value ? std::optional<double>(double(*value)) : std::nullopt;
  }
  const count_figure figure = count_of(check.metric, in);
  if (check.unit != figure_unit::ratio) return double(figure.value);
  if (figure.whole == 0) return std::nullopt;
  return double(figure.value) / double(figure.whole);
}

std::vector<threshold_outcome> evaluate_thresholds(const std::vector<threshold>& checks,
                                                   const threshold_input& in) {
  std::vector<threshold_outcome> out;
  for (const auto& check : checks)
    out.push_back(judge(check, in));
  return out;
}

std::optional<threshold_outcome> first_failed_abort(const std::vector<threshold>& checks,
                                                    const threshold_input& in) {
  for (const auto& check : checks) {
    if (!check.abort) continue;
    auto outcome = judge(check, in);
    if (outcome.value && !outcome.passed) return outcome;
  }
  return std::nullopt;
}

std::vector<threshold> implicit_checks(const threshold_input& in, uint64_t connections_planned) {
  const core::counter_values& c = *in.counters;
  const bool pubsub = in.pubsub;
  std::vector<threshold> out;
  const auto add = [&](const char* metric, const char* description) {
    threshold t;
    t.metric = metric;
    t.expr = std::string(metric) + ">0";
    t.op = compare_op::greater;
    t.limit = 0;
    t.unit = figure_unit::count;
    t.description = description;
    out.push_back(std::move(t));
  };
  if (connections_planned > 0 || c.attempts > 0) add("connections.opened", "no connection opened");
  // Opened, but no protocol handshake completed: the scenario never began.
  if (protocol_run(in) && c.upgraded > 0) {
    add("connections.ready", "no protocol handshake completed");
  }
  if (pubsub) {
    if (c.pubsub.owed() > 0) add("pubsub.delivered", "every delivery lost");
  } else if (c.messages_sent > 0) {
    add("messages.answered", "no message answered");
  }
  return out;
}

std::string figure_text(std::optional<double> value, figure_unit unit) {
  if (!value) return "no samples";
  switch (unit) {
    case figure_unit::ns:
      return *value < 1000 ? fmt::format("{:.0f} ns", *value)
                           : fmt::format("{:.3f} ms", *value / 1e6);
    case figure_unit::ratio:
      return fmt::format("{:.4g}%", *value * 100);
    case figure_unit::count:
      return grouped(uint64_t(std::llround(*value)));
  }
  return {};
}

}  // namespace horde::app
