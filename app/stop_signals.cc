#include "app/stop_signals.hh"

#include <signal.h>

#include <atomic>

namespace horde::app {
namespace {

std::atomic<int> stop_signals{0};

void on_stop_signal(int) {
  stop_signals.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

int stop_signals_seen() noexcept {
  return stop_signals.load(std::memory_order_relaxed);
}

}  // namespace horde::app
