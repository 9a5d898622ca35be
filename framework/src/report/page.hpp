#pragma once
// The report page: framework/report/page/report.html with its script and styles, uPlot and a
// bundle (report/bundle.hpp) inlined, so the file opens from disk with no network.
#include <string>

#include "runs/json.hpp"

namespace ablate::report {

/// The whole HTML page for `bundle`. An Error when this build has no uPlot (tools/setup.sh
/// vendors it from npm).
std::string render_page(const Json& bundle);

/// `json`'s text made safe inside a <script> element: every '<' as \u003c.
std::string script_safe(const std::string& json);

}  // namespace ablate::report
