// `horde report` and `horde compare`: their flags (app/report_command.hh
// does the work).
#include "app/cli_commands.hh"

namespace horde::app {

CLI::App* add_report_command(CLI::App& cli, report_options& options) {
  CLI::App* cmd = cli.add_subcommand(
      "report",
      "Write the HTML report of a result written by horde run --json: charts and tables in one "
      "file that opens offline");
  cmd->add_option("result", options.input, "The JSON result")->required();
  cmd->add_option("-o,--output", options.output,
                  "The HTML file; default: the result's name with .html");
  return cmd;
}

CLI::App* add_compare_command(CLI::App& cli, compare_options& options) {
  CLI::App* cmd = cli.add_subcommand(
      "compare",
      "Compare two results (horde run --json): each figure's base and new values and the "
      "change, marked better or worse; exits 0 (thresholds decide verdicts)");
  cmd->add_option("base", options.base, "The baseline result")->required();
  cmd->add_option("new", options.now, "The new result")->required();
  cmd->add_option("-o,--output", options.output, "Also write the table as an HTML page here");
  return cmd;
}

}  // namespace horde::app
