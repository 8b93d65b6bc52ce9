// Each subcommand's flags, added to the CLI11 app (app/cli.cc parses).
#pragma once

#include <CLI/CLI.hpp>

#include "app/ladder_command.hh"
#include "app/merge_command.hh"
#include "app/report_command.hh"
#include "app/run_plan.hh"
#include "app/serve_command.hh"
#include "app/tune_command.hh"

namespace horde::app {

CLI::App* add_run_command(CLI::App& cli, run_options& run);
// Every `horde run` flag on `command` (run, ladder); its final callback
// reads the scenario file, so a command may set its own only after this.
void add_run_flags(CLI::App* command, run_options& run);
CLI::App* add_ladder_command(CLI::App& cli, ladder_command_options& options);
CLI::App* add_serve_command(CLI::App& cli, serve_options& serve);
CLI::App* add_tune_command(CLI::App& cli, tune_options& tune);
CLI::App* add_report_command(CLI::App& cli, report_options& options);
CLI::App* add_compare_command(CLI::App& cli, compare_options& options);
CLI::App* add_merge_command(CLI::App& cli, merge_options& options);

}  // namespace horde::app
