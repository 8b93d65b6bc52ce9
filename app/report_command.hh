// `horde report RESULT.json -o report.html` and `horde compare BASE.json
// NEW.json [-o cmp.html]`: pages and tables from results already written.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "base/result.hh"

namespace horde::app {

struct report_options {
  std::string input;   // a horde run --json result
  std::string output;  // default: the input with .html for .json
};

struct compare_options {
  std::string base;
  std::string now;
  std::string output;  // HTML here when given; the text table goes to stdout regardless
};

// A result file read and checked to be horde's (schema horde.run/N).
result<nlohmann::json> read_result_file(const std::string& path);

// Exit codes: 0 written, 2 an input unreadable or not a result, or the
// output not writable. compare's comparison itself never fails (0).
int report(const report_options& options);
int compare(const compare_options& options);

}  // namespace horde::app
