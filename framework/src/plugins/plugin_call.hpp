#pragma once
// Which plugin the host is calling into, so a crash names it. A plugin that segfaults or aborts
// kills its process (a sweep's trial is one, so the sweep goes on); the crash handler then
// writes "ablate crashed: SIGSEGV while calling plugin 'x' (orderer, /path/x.so)" to stderr,
// where the study runner finds it for the trial's status. An exception leaving plugin code is
// noted the same way, so the run's reason names the plugin too.
#include <string>

#include "plugins/registry.hpp"

namespace ablate {

/// Marks a call into `entry`'s code while alive (a few stores: cheap enough for every step).
class PluginCall {
 public:
  explicit PluginCall(const PluginEntry* entry);
  ~PluginCall();
  PluginCall(const PluginCall&) = delete;
  PluginCall& operator=(const PluginCall&) = delete;

 private:
  const char* previous_;
  int exceptions_;
};

/// Installs the report for SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT; the process still dies
/// by the signal afterwards.
void install_crash_report();

/// "plugin 'x' (orderer, /path/x.so)" when the last exception came out of a plugin call, else
/// empty; reading it forgets it.
std::string take_throwing_plugin();

/// The prefix of the crash line on stderr.
inline constexpr const char* kCrashMarker = "ablate crashed: ";

}  // namespace ablate
