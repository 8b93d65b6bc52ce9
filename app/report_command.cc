#include "app/report_command.hh"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "app/html_report.hh"
#include "app/result_file.hh"
#include "app/run_compare.hh"

namespace horde::app {

result<nlohmann::json> read_result_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error("cannot read " + path + ": " + std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = nlohmann::json::parse(text.str(), nullptr, false);
  if (parsed.is_discarded()) return make_error(path + " is not JSON");
  const auto schema = parsed.is_object() ? parsed.value("schema", std::string()) : std::string();
  if (schema.rfind("horde.ladder/", 0) == 0) {
    // A ladder: the page of its last level's run, with the ladder's curve
    // and table (the levels without their nested runs).
    const auto& levels = parsed["levels"];
    if (!levels.is_array() || levels.empty() || !levels.back().contains("run"))
      return make_error(path + " is a ladder with no level run");
    nlohmann::json page = levels.back()["run"];
    nlohmann::json ladder = parsed;
    for (auto& level : ladder["levels"])
      level.erase("run");
    page["ladder"] = std::move(ladder);
    return page;
  }
  if (schema.rfind("horde.run/", 0) != 0)
    return make_error(
        path + " is not a horde result (no \"schema\": \"horde.run/1\" or \"horde.ladder/1\")");
  return parsed;
}

namespace {

std::string html_path_for(const std::string& input) {
  const std::string suffix = ".json";
  if (input.size() > suffix.size() && input.ends_with(suffix))
    return input.substr(0, input.size() - suffix.size()) + ".html";
  return input + ".html";
}

}  // namespace

int report(const report_options& options) {
  auto loaded = read_result_file(options.input);
  if (!loaded) {
    fmt::print(stderr, "horde report: {}\n", loaded.error().message);
    return 2;
  }
  const std::string output = options.output.empty() ? html_path_for(options.input) : options.output;
  if (auto written = write_whole(output, html_report(*loaded)); !written) {
    fmt::print(stderr, "horde report: {}\n", written.error().message);
    return 2;
  }
  fmt::print("horde report: wrote {}\n", output);
  return 0;
}

int compare(const compare_options& options) {
  auto base = read_result_file(options.base);
  auto now = read_result_file(options.now);
  for (const auto* loaded : {&base, &now}) {
    if (!*loaded) {
      fmt::print(stderr, "horde compare: {}\n", loaded->error().message);
      return 2;
    }
  }
  const auto figures = compare_results(*base, *now);
  fmt::print("{}", compare_text(figures, options.base, options.now));
  if (!options.output.empty()) {
    if (auto written =
            write_whole(options.output, compare_html(figures, options.base, options.now));
        !written) {
      fmt::print(stderr, "horde compare: {}\n", written.error().message);
      return 2;
    }
  }
  return 0;
}

}  // namespace horde::app
