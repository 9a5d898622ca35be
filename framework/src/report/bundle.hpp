#pragma once
// What `ablate report` and `ablate dashboard` show (docs/REPORT.md): the files of run and study
// directories gathered into one JSON "bundle" for the page (framework/report/page/) to render.
// Only reads: a directory being watched is never written to, and nothing is recomputed. A file
// that is missing is null; one that cannot be read or parsed is null with the reason in the
// source's "errors". metrics.jsonl goes in as raw text, so a half-written line reaches the page
// as the run left it and is reported there.
#include <filesystem>
#include <string>
#include <vector>

#include "runs/json.hpp"

namespace ablate::report {

/// The directories to show, as given: a run directory (config.toml), a study directory (a
/// manifest.json with trials), or a folder holding either (e.g. runs/quickstart/), expanded to
/// the run and study directories below it, sorted. An Error naming a path that is none of these.
std::vector<std::filesystem::path> expand_sources(const std::vector<std::filesystem::path>& dirs);

/// One source per directory: {"type": "run"|"study", "path", "name", ...} (docs/REPORT.md,
/// "The bundle").
Json collect_run(const std::filesystem::path& dir);
Json collect_study(const std::filesystem::path& dir);

/// {"generated", "ablate_version", "live", "sources": [...]} for the expanded directories.
/// `live` is null for a report, the dashboard's polling settings for a live page.
Json collect_bundle(const std::vector<std::filesystem::path>& sources, Json live = {});

}  // namespace ablate::report
