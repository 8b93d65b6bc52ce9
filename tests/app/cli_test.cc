// The command line itself: `horde` alone, an unknown command, usage errors.
#include "app/cli.hh"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace horde::app {
namespace {

int cli(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  return run_cli(int(argv.size()), argv.data());
}

TEST(Cli, AloneItPrintsItsHelp) {
  testing::internal::CaptureStdout();
  EXPECT_EQ(cli({"horde"}), 0);
  const std::string out = testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find("Subcommands:"), std::string::npos) << out;
  EXPECT_NE(out.find("run"), std::string::npos);
  EXPECT_NE(out.find("Exit codes:"), std::string::npos);
}

TEST(Cli, AnUnknownCommandListsTheRealOnes) {
  testing::internal::CaptureStderr();
  EXPECT_EQ(cli({"horde", "rn", "-c", "10"}), 2);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("'rn' is not a command; the commands are: run, serve, tune"),
            std::string::npos)
      << err;
}

TEST(Cli, UsageErrorsExitTwoAndHelpZero) {
  testing::internal::CaptureStderr();
  EXPECT_EQ(cli({"horde", "run", "--no-such-flag"}), 2);
  testing::internal::GetCapturedStderr();
  testing::internal::CaptureStdout();
  EXPECT_EQ(cli({"horde", "run", "--help"}), 0);
  const std::string help = testing::internal::GetCapturedStdout();
  EXPECT_NE(help.find("--percentiles"), std::string::npos);
  EXPECT_NE(help.find("Exit codes:"), std::string::npos);
}

// A scenario file's mistake is a usage error: exit 2, the place on stderr.
TEST(Cli, ABadScenarioFileExitsTwoAndSaysWhere) {
  const std::string path = testing::TempDir() + "cli_test_bad_scenario.yaml";
  std::ofstream(path) << "connections: 10\nconections: 20\n";
  testing::internal::CaptureStderr();
  EXPECT_EQ(cli({"horde", "run", "--scenario", path}), 2);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find(path + ":2:1: unknown key 'conections' (did you mean 'connections'?)"),
            std::string::npos)
      << err;
  std::remove(path.c_str());
}

TEST(Cli, RunHelpTeachesTheScenarioFlags) {
  testing::internal::CaptureStdout();
  EXPECT_EQ(cli({"horde", "run", "--help"}), 0);
  const std::string help = testing::internal::GetCapturedStdout();
  for (const char* flag :
       {"--scenario FILE", "--feeder FILE", "--lifetime", "--lifetime-jitter", "--reconnect",
        "--backoff-base", "--backoff-cap", "--max-attempts", "--chaos-rate", "--chaos-mode",
        "--listen-only", "--request TEMPLATE", "--match PTR", "--error-field PTR",
        "--request-timeout", "--heartbeat-every", "--heartbeat-send", "--heartbeat-expect"})
    EXPECT_NE(help.find(flag), std::string::npos) << flag;
}

}  // namespace
}  // namespace horde::app
