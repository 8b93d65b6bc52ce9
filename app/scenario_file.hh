// A scenario file (YAML): one plan for `horde run`. Every flag of `horde run`
// has its key (the long name without dashes: `connections: 100k`), fed to the
// flag's own CLI11 option, so the file takes exactly what the flag takes and a
// new flag gets its key for free. The blocks that are not flags (feeders, http,
// jwt, requests) become a scenario_spec; the lifecycle and heartbeat blocks are
// flags grouped under a name (`lifecycle: {lifetime: 60s}` is `--lifetime 60s`).
// Errors name file:line:column, the key path, and the nearest valid key.
#pragma once

#include <CLI/CLI.hpp>

#include <set>
#include <string>
#include <vector>

#include "app/scenario_spec.hh"
#include "base/result.hh"

namespace horde::app {

// A flag of `horde run`, as a file key.
struct flag_key {
  std::string name;  // the long name without dashes ("connect-rate"), or a positional's ("url")
  bool takes_list = false;  // repeatable: the key takes a YAML list too (`header: [a, b]`)
  bool is_switch = false;   // no value on the command line: the key takes true/false
  std::string group;        // its --help section
};

// A key of the file that stands for a flag, with the values it gives.
struct flag_value {
  std::string flag;  // flag_key::name
  std::vector<std::string> values;
  spec_origin
      origin;  // the key's position; origin.key is the path as written ("lifecycle.reconnect")
};

struct scenario_file {
  std::vector<flag_value> flags;  // in file order
  scenario_spec spec;             // feeders, http_steps, jwt, requests (with origins)
  // For each of spec.requests: the keys it set, so flag defaults
  // (`match:` at the top) fill only what an entry left out.
  std::vector<std::set<std::string>> request_keys;
  spec_origin lifecycle_origin;  // the `lifecycle:` block, when present
  spec_origin heartbeat_origin;  // the `heartbeat:` block, when present
};

// Reads `path` against the flags there are. A missing file, a YAML syntax
// error, an unknown key, a wrong type or an unset ${VAR} is an error naming
// file:line:column. An empty file is a scenario with no keys.
result<scenario_file> read_scenario_file(const std::string& path,
                                         const std::vector<flag_key>& flags);

// Same, from text (`name` stands for the file in messages; relative paths in
// blocks are taken from its directory).
result<scenario_file> parse_scenario_text(const std::string& text, const std::string& name,
                                          const std::vector<flag_key>& flags);

// `run_cmd`'s options as file keys, --help and --scenario excepted.
std::vector<flag_key> flag_keys(const CLI::App& run_cmd);

// Feeds each flag value to its option unless `given` (set on the command
// line) holds it: the command line wins. A value the option refuses is an
// error at the key's position.
result<void> apply_flag_values(const scenario_file& file, CLI::App& run_cmd,
                               const std::set<const CLI::Option*>& given);

// The name within `candidates` nearest to `name` by edit distance, or "" when
// none is close enough to be a likely typo.
std::string nearest_key(const std::string& name, const std::vector<std::string>& candidates);

}  // namespace horde::app
