// horde merge's addition of two results' sections (app/result_merge.hh).
// Most figures are counts and add; the exceptions are named here by key,
// each with why.
#include <algorithm>
#include <set>
#include <string_view>

#include "app/report.hh"
#include "app/result_figures.hh"
#include "app/result_merge.hh"

namespace horde::app {
namespace {

using json = nlohmann::json;

// The same in every slice, not a count: settings echoed into the result.
const std::set<std::string_view> settings = {"groups",           "subscriptions_per_connection",
                                             "zipf_exponent",    "publish_rate_per_publisher",
                                             "payload_bytes",    "rate",
                                             "failure_meanings", "weight"};

// The highest of the slices: a peak one connection reached, a time since
// each process's own start, a share of each process's own CPUs.
const std::set<std::string_view> highest = {
    "send_backlog_peak_bytes", "backlog_peak_bytes", "publish_start_seconds", "seconds",
    "cpu_used_share",          "cpu_wait_share",     "elapsed_seconds"};

// True only when true in every slice; other booleans are true when any is.
const std::set<std::string_view> all_of = {"schedule_kept", "verified"};

void add_number(json& into, const json& from, std::string_view key) {
  if (settings.count(key)) return;
  if (highest.count(key)) {
    if (from.get<double>() > into.get<double>()) into = from;
    return;
  }
  if (into.is_number_unsigned() && from.is_number_unsigned()) {
    into = into.get<uint64_t>() + from.get<uint64_t>();
  } else if (into.is_number_integer() && from.is_number_integer()) {
    into = into.get<int64_t>() + from.get<int64_t>();
  } else {
    into = into.get<double>() + from.get<double>();
  }
}

void add_histogram(json& into, const json& from, const std::vector<double>& percentiles) {
  core::histogram h;
  add_histogram_json(h, into);
  add_histogram_json(h, from);
  into = histogram_json(h, percentiles);
}

// TLS and --protocol failures: one entry per (reason, text), counts added.
void add_failure_texts(json& into, const json& from) {
  for (const auto& f : from) {
    auto same = std::find_if(into.begin(), into.end(), [&](const json& e) {
      return e.value("reason", "") == f.value("reason", "") &&
             e.value("text", "") == f.value("text", "");
    });
    if (same == into.end())
      into.push_back(f);
    else
      (*same)["count"] = same->value("count", uint64_t(0)) + f.value("count", uint64_t(0));
  }
}

}  // namespace

void add_section(json& into, const json& from, const std::string& key,
                 const std::vector<double>& percentiles, int depth) {
  if (from.is_null() || depth > max_section_depth) return;
  if (into.is_null()) {
    into = from;
    return;
  }
  if (into.is_object() && from.is_object()) {
    if (into.contains("buckets") || from.contains("buckets"))
      return add_histogram(into, from, percentiles);
    for (const auto& [k, v] : from.items()) {
      if (!into.contains(k))
        into[k] = v;
      else
        add_section(into[k], v, k, percentiles, depth + 1);
    }
    return;
  }
  if (into.is_number() && from.is_number()) return add_number(into, from, key);
  if (into.is_boolean() && from.is_boolean()) {
    into = all_of.count(key) ? into.get<bool>() && from.get<bool>()
                             : into.get<bool>() || from.get<bool>();
    return;
  }
  if ((key == "failures" || key == "protocol_failures") && into.is_array() && from.is_array())
    return add_failure_texts(into, from);
  // Strings, arrays and mixed kinds: the first file's.
}

}  // namespace horde::app
