#include "train/stop.hpp"

#include <signal.h>

#include <atomic>
#include <cstring>

namespace ablate {
namespace {

std::atomic<int> requested{0};  // lock-free: the only thing a handler may touch
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void on_stop_signal(int signal) {
  int none = 0;
  if (!requested.compare_exchange_strong(none, signal)) {
    ::signal(signal, SIG_DFL);  // the second time: the user means now
    ::raise(signal);
  }
}

}  // namespace

void install_stop_signals() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

int stop_signal() { return requested.load(); }

std::string signal_name(int signal) {
  const char* abbrev = ::sigabbrev_np(signal);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(signal);
}

}  // namespace ablate
