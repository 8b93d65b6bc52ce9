// The horde executable: everything lives in horde_app; this is the entry.
#include "app/cli.hh"

int main(int argc, char** argv) {
  return horde::app::run_cli(argc, argv);
}
