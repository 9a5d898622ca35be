#pragma once
// `ablate dashboard`: the report page, live. A small HTTP server on 127.0.0.1 (Boost.Beast) with
// two read-only resources: / (the page, with the bundle at the time of the request) and
// /bundle.json (the bundle again, with an ETag, so the page's poll costs a 304 while nothing
// changed). Every GET re-reads the directories; nothing is ever written to them.
#include <filesystem>
#include <functional>
#include <vector>

namespace ablate::report {

struct DashboardOptions {
  std::vector<std::filesystem::path> dirs;  // as given: a folder of runs shows new runs too
  unsigned short port = 8600;                // 0: any free port
  int poll_ms = 1000;                        // how often the page asks for /bundle.json
  /// Called once listening, with the port (the URL is http://127.0.0.1:<port>/).
  std::function<void(unsigned short)> on_listening;
};

/// Serves until SIGINT or SIGTERM; returns 0 then. An Error when the port cannot be bound.
int serve_dashboard(const DashboardOptions& options);

}  // namespace ablate::report
