#pragma once
// One run, start to end: validate, create the run directory, train, record. And resume.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/experiment.hpp"

namespace ablate {

struct RunOptions {
  std::filesystem::path out = "runs";  // runs/<experiment>/<stamp>-<id>/ go under it
  std::vector<Override> overrides;     // --set, and --seed as experiment.seed
};

struct RunResult {
  std::filesystem::path dir;
  std::string status;  // ok | diverged | failed | interrupted
  int exit_code = 0;   // 0 ok, 1 the run failed or diverged, 128 + N interrupted by signal N
};

/// Throws ConfigError before anything is created when the experiment is invalid.
RunResult run_experiment(const std::filesystem::path& file, const RunOptions& options);
/// Continues a run from its last checkpoint; one without a checkpoint starts over in place.
RunResult resume_run(const std::filesystem::path& dir);

}  // namespace ablate
