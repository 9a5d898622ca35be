#include "plugins/plugin_call.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <exception>

#include "ablate/plugin.hpp"

namespace ablate {
namespace {

// The label of the plugin being called (PluginEntry::label, alive as long as the Registry), or
// null in host code. A lock-free atomic: the crash handler reads it.
std::atomic<const char*> current{nullptr};
std::atomic<const char*> threw{nullptr};

void say(const char* text) {
  if (text && ::write(STDERR_FILENO, text, std::strlen(text)) < 0) {
  }
}

extern "C" void report_crash(int signal) {
  // Only async-signal-safe calls: write(2), and a name from a static table.
  const char* abbrev = ::sigabbrev_np(signal);
  say("\n");
  say(kCrashMarker);
  say("SIG");
  say(abbrev ? abbrev : "?");
  const char* label = current.load();
  say(label ? " while calling " : " in the host (no plugin call under way)");
  say(label);
  say("\n");
  ::signal(signal, SIG_DFL);
  ::raise(signal);
}

}  // namespace

PluginCall::PluginCall(const PluginEntry* entry)
    : previous_(current.exchange(entry ? entry->label.c_str() : nullptr)),
      exceptions_(std::uncaught_exceptions()) {}

PluginCall::~PluginCall() {
  // Unwinding from inside the call: the innermost plugin call noted first is the one that threw.
  if (std::uncaught_exceptions() > exceptions_ && !threw.load()) threw.store(current.load());
  current.store(previous_);
}

void install_crash_report() {
  struct sigaction action {};
  action.sa_handler = report_crash;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND;
  for (int signal : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) ::sigaction(signal, &action, nullptr);
}

std::string take_throwing_plugin() {
  const char* label = threw.exchange(nullptr);
  return label ? label : "";
}

}  // namespace ablate
