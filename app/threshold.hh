// --threshold: a small grammar over the report's names, and its evaluation
// against a run's counters and histograms. Pure: no I/O, no clock, so the
// same code judges the final result, the live snapshot once a second
// (`:abort`), and the implicit "nothing worked" checks.
//
//   threshold := metric op value [":abort"]
//   metric    := latency "." ("p" N | "max" | "mean")      (0 < N < 100)
//              | connections.{attempted,opened,failed,peak_open,closed_clean}
//              | messages.{sent,received,answered,unanswered,duplicated,corrupted,truncated}
//              | pubsub.{expected,delivered,lost,duplicated,reordered}
//              | errors
//              | protocol.<codec>.<counter>               --protocol's counts
//   latency   := rtt | connect | tls | upgrade | send_lag | subscribe | fanout | fanout_last
//              | protocol.<codec>.<histogram>           --protocol's times
//   op        := < | <= | > | >= | == | !=
//   value     := number (ns|us|ms|s)          latencies, and only they
//              | number %                      a count as a share of its whole
//              | number [k|M]                 a count
//
// `errors` counts failed connections plus message errors (unanswered,
// corrupted, truncated echoes; lost deliveries in pub/sub), out of
// connections attempted plus messages sent (deliveries expected).
//
// protocol.* names are every codec's declared metrics (proto/codec.hh's
// codec_info::counters and ::histograms); a run accepts only its own
// codec's (threshold_fits_protocol), and reads them among the named metrics.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hh"
#include "core/metrics.hh"

namespace horde::core {
struct named_metrics;  // core/plan.hh
}

namespace horde::app {

enum class compare_op { less, less_equal, greater, greater_equal, equal, not_equal };

// What a limit is measured in: nanoseconds, a fraction of a whole (0.01 is
// 1%), or a plain count.
enum class figure_unit { ns, ratio, count };

struct threshold {
  std::string expr;    // as typed, ":abort" included
  std::string metric;  // "rtt.p99"
  compare_op op = compare_op::less;
  double limit = 0;  // in `unit`
  figure_unit unit = figure_unit::count;
  bool abort = false;       // evaluated live once a second; a failure stops the run
  std::string description;  // implicit checks: what a failure means ("no connection opened")
};

// Returns the threshold, or an error naming what is wrong and, for an
// unknown name, the nearest valid one.
result<threshold> parse_threshold(const std::string& text);

// The figures a threshold reads. `settled` is for live evaluation: the
// previous second's counters, so a message (delivery) counts as unanswered
// (lost) only when it was sent (owed) before then and is still missing —
// not while it is merely in flight. At the end of the run, leave it null.
struct threshold_input {
  const core::counter_values* counters = nullptr;
  const core::latency_set* latency = nullptr;
  const core::counter_values* settled = nullptr;
  bool pubsub = false;
  // The names of counters->named and latency->named (protocol.* metrics);
  // none: a protocol.* threshold has nothing to measure.
  const core::named_metrics* names = nullptr;
};

struct threshold_outcome {
  threshold check;
  std::optional<double> value;  // in check.unit; none: nothing to measure (no samples)
  bool passed = false;
  bool implicit = false;  // added by horde: a run in which nothing worked never passes
};

// The figure's value in the threshold's unit; none when there is nothing to
// measure (an empty histogram, a share of nothing).
std::optional<double> measure(const threshold& check, const threshold_input& in);

// Each threshold judged; one with nothing to measure fails.
std::vector<threshold_outcome> evaluate_thresholds(const std::vector<threshold>& checks,
                                                   const threshold_input& in);

// Live: the first `:abort` threshold that fails now, if any. A figure with
// nothing to measure yet is not judged.
std::optional<threshold_outcome> first_failed_abort(const std::vector<threshold>& checks,
                                                    const threshold_input& in);

// The checks every run gets, thresholds or not, so that a run in which
// nothing worked never exits 0: a connection opened; with --protocol, one
// completed the protocol's handshake; if messages were sent, one answered;
// if deliveries were owed, one delivered.
std::vector<threshold> implicit_checks(const threshold_input& in, uint64_t connections_planned);

// "1.234 ms", "0.25%", "1,000"; "no samples" when none.
std::string figure_text(std::optional<double> value, figure_unit unit);

// Every name the grammar knows, for the nearest-name hint and the docs.
std::vector<std::string> threshold_names();

// Whether `name` is a codec's declared counter (or histogram), e.g.
// "protocol.mqtt.publishes_refused" ("protocol.mqtt.puback").
bool is_protocol_metric(std::string_view name, bool histogram);

// A protocol.* threshold names one codec's metric: an error when the run's
// --protocol (`protocol`: a codec's name, or "ws" for none) is another.
result<void> threshold_fits_protocol(const threshold& check, std::string_view protocol);

}  // namespace horde::app
