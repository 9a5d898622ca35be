#pragma once
// Running a study's trials: one function supervises one trial (a child `ablate run` or
// `ablate resume`), and the local backend is a pool of workers calling it.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "study/study_dir.hpp"

namespace ablate::study {

/// Runs trial `id` of the study at `study_dir` to its end and records status.json:
///   - when its newest run directory has a checkpoint and no ok summary: `ablate resume RUN_DIR`;
///   - otherwise `ablate run trials/<id>/config.toml --out trials/<id>`;
/// output appended to trials/<id>/output.txt. Ends as ok, diverged (summary.json says so),
/// failed (non-zero exit: the run's reason or its last error line; or a crash, SIGSEGV, SIGABRT...,
/// with the plugin the run was calling), killed (naming the signal), or interrupted (the run
/// stopped itself on SIGTERM / SIGINT, or a signal while `interrupted()` says the study is being
/// stopped).
/// `started(pid)` is called once the child runs, so a pool can stop it.
/// `binary` is the ablate executable (current_executable() in util/program.hpp).
TrialStatus run_trial(const std::filesystem::path& study_dir, const std::string& id,
                      const std::filesystem::path& binary,
                      const std::function<void(int pid)>& started = {},
                      const std::function<bool()>& interrupted = {});

/// One line of progress: "[3/8] p001-s2  ok  test_accuracy 0.9412  2.1 s".
std::string progress_line(const std::filesystem::path& study_dir, const std::string& id,
                          const TrialStatus& status, std::size_t done, std::size_t total);

/// Runs `ids` with `workers` trials at a time, printing a progress line as each ends.
/// SIGINT / SIGTERM during the pool stop the running children (recorded "interrupted") and start
/// no more. Returns the statuses in the order of `ids` (never-started ones stay "pending").
std::vector<TrialStatus> run_local(const std::filesystem::path& study_dir,
                                   const std::vector<std::string>& ids, int workers);

/// Whether the last run_local was stopped by SIGINT / SIGTERM.
bool was_interrupted();

}  // namespace ablate::study
