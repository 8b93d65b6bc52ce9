// horde merge's checks (app/result_merge.hh): the files are slices of one
// plan, or independent runs, never a mixture; every error names the file
// and the field.
#include <fmt/format.h>

#include <map>

#include "app/result_merge.hh"

namespace horde::app {
namespace {

using json = nlohmann::json;

std::string shown(const json& v) {
  return v.is_null() ? "absent" : v.dump();
}

result<uint64_t> worker_number(const merge_input& in, const char* name) {
  const json& w = in.result["worker"];
  if (!w.contains(name) || !w[name].is_number_integer() || w[name].get<int64_t>() < 0)
    return make_error(fmt::format("{}: worker.{} is {}, not a whole number", in.path, name,
                                  shown(w.value(name, json()))));
  return w[name].get<uint64_t>();
}

// Every key of either whole plan, equal in both.
result<void> same_whole_plan(const merge_input& first, const merge_input& in) {
  const json& a = first.result["worker"].value("whole_plan", json());
  const json& b = in.result["worker"].value("whole_plan", json());
  if (!b.is_object())
    return make_error(fmt::format("{}: worker.whole_plan is {}, not an object", in.path, shown(b)));
  if (!a.is_object()) return {};  // the first file's own check reports it
  for (const auto* keys : {&a, &b}) {
    for (const auto& [key, value] : keys->items()) {
      const json va = a.value(key, json()), vb = b.value(key, json());
      if (va != vb)
        return make_error(
            fmt::format("{}: worker.whole_plan.{} is {}, {}'s is {}: not slices of "
                        "one plan",
                        in.path, key, shown(vb), first.path, shown(va)));
    }
  }
  return {};
}

result<void> check_worker(const merge_input& first, const merge_input& in, merge_outcome& out,
                          std::map<uint64_t, std::string>& taken) {
  if (in.result["worker"].contains("merged"))
    return make_error(in.path +
                      ": is already a merged result (worker.merged): merge the "
                      "workers' own files");
  auto index = worker_number(in, "index");
  if (!index) return index.error();
  auto count = worker_number(in, "count");
  if (!count) return count.error();
  if (*count > max_merge_workers)
    return make_error(fmt::format("{}: worker.count is {}: horde merge takes at most {} workers",
                                  in.path, *count, max_merge_workers));
  if (*count == 0 || *index >= *count)
    return make_error(fmt::format("{}: worker.index is {} of worker.count {}: it must be below it",
                                  in.path, *index, *count));
  if (out.count == 0) out.count = *count;
  if (*count != out.count)
    return make_error(fmt::format("{}: worker.count is {}, {}'s is {}: not slices of one plan",
                                  in.path, *count, first.path, out.count));
  if (auto same = same_whole_plan(first, in); !same) return same;
  if (const auto it = taken.find(*index); it != taken.end())
    return make_error(fmt::format("{} and {} are both worker.index {} of {}: one slice twice",
                                  it->second, in.path, *index, *count));
  taken[*index] = in.path;
  return {};
}

// The sections the merge reads have the kind horde writes them with.
result<void> check_kinds(const merge_input& in) {
  static constexpr const char* objects[] = {
      "plan",        "worker",   "verdict",        "environment", "leak_check",
      "connections", "messages", "counters",       "pubsub",      "latency",
      "scenario",    "tls",      "kernel_network", "self",        "server"};
  static constexpr const char* arrays[] = {"series", "thresholds", "notes", "errors", "targets"};
  for (const char* key : objects)
    if (in.result.contains(key) && !in.result[key].is_object())
      return make_error(
          fmt::format("{}: {} is {}, not an object", in.path, key, in.result[key].type_name()));
  for (const char* key : arrays)
    if (in.result.contains(key) && !in.result[key].is_array())
      return make_error(
          fmt::format("{}: {} is {}, not an array", in.path, key, in.result[key].type_name()));
  const json& verdict = in.result.value("verdict", json::object());
  if (verdict.contains("reasons") && !verdict["reasons"].is_array())
    return make_error(in.path + ": verdict.reasons is not an array");
  return {};
}

}  // namespace

result<void> check_merge_inputs(const std::vector<merge_input>& inputs, merge_outcome& out) {
  if (inputs.size() < 2) return make_error("give at least two result files to merge");
  const merge_input& first = inputs.front();
  const json schema = first.result.value("schema", json());
  out.workers = first.result.contains("worker");
  std::map<uint64_t, std::string> taken;
  for (const auto& in : inputs) {
    if (!in.result.is_object()) return make_error(in.path + ": is not a JSON object");
    if (auto kinds = check_kinds(in); !kinds) return kinds;
    if (in.result.value("schema", json()) != schema)
      return make_error(fmt::format("{}: schema is {}, {}'s is {}", in.path,
                                    shown(in.result.value("schema", json())), first.path,
                                    shown(schema)));
    if (in.result.contains("worker") != out.workers)
      return make_error(fmt::format(
          "{}: {} \"worker\" object, {} {}: merge one run's worker slices, or independent "
          "runs, not both",
          in.path, out.workers ? "has no" : "has a", first.path, out.workers ? "has" : "has none"));
    if (!out.workers) continue;
    if (!in.result["worker"].is_object()) return make_error(in.path + ": worker is not an object");
    if (auto checked = check_worker(first, in, out, taken); !checked) return checked;
  }
  if (!out.workers) {
    out.count = inputs.size();
    for (uint64_t i = 0; i < out.count; ++i)
      out.merged_indexes.push_back(i);
    return {};
  }
  for (uint64_t i = 0; i < out.count; ++i) {
    if (taken.count(i))
      out.merged_indexes.push_back(i);
    else
      out.missing.push_back(i);
  }
  return {};
}

}  // namespace horde::app
