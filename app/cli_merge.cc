// `horde merge`: its flags (app/merge_command.hh does the work).
#include "app/cli_commands.hh"

namespace horde::app {

CLI::App* add_merge_command(CLI::App& cli, merge_options& options) {
  CLI::App* cmd = cli.add_subcommand(
      "merge",
      "Merge the JSON results of one run's workers (horde run --worker i/N --json, one per host "
      "or pod) into one result that horde report, horde compare and thresholds read");
  cmd->add_option("results", options.inputs, "The workers' JSON results (two or more)")
      ->required()
      ->expected(2, -1);
  cmd->add_option("-o,--output", options.output, "The merged JSON result")->required();
  cmd->add_option("--threshold", options.thresholds,
                  "Judge the merged figures by this too (the runs' own thresholds are judged "
                  "again on the whole regardless), e.g. --threshold 'rtt.p99<50ms'");
  cmd->footer(
      "\nWhat it does:\n"
      "  Files with a \"worker\" object (horde run --worker i/N or --workers N) must be slices of\n"
      "  one plan: the same schema, worker.count and every field of worker.whole_plan; an error\n"
      "  names the file and the field. Two files with one worker.index are refused. A missing\n"
      "  slice (a worker that died) is allowed: the merged file lists it in worker.missing and\n"
      "  its verdict is invalid. Files without \"worker\" are added as independent runs.\n"
      "  Counters add; histograms add bucket by bucket and their percentiles are computed again\n"
      "  from the buckets (exact, as one process would have); the per-second series align by\n"
      "  the wall-clock second each worker started (its clock offset is kept in the file);\n"
      "  interval percentiles per second are the highest worker's (an upper bound).\n"
      "  The merged file is a horde.run/1 result whose plan is the whole plan and whose\n"
      "  worker is {merged, count, missing, hosts, clock_offsets_ns, files}.\n\n"
      "  e.g. horde merge w0.json w1.json w2.json -o all.json --threshold 'errors<0.1%'\n"
      "       horde report all.json -o all.html;  horde compare last-week.json all.json\n\n"
      "Exit codes: 0 passed, 1 a threshold or implicit check failed, 2 an input unreadable or\n"
      "  not mergeable, a bad --threshold, or the output not written, 3 invalid (a slice\n"
      "  missing, a worker's run invalid)\n");
  return cmd;
}

}  // namespace horde::app
