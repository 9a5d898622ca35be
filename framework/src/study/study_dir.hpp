#pragma once
// A study directory (docs/EXPERIMENT_FILES.md, "Running studies"): the plan, written once before
// anything runs, and a folder per trial holding its resolved config, its run and its status.
//   manifest.json              kind, name, source + sha256, created, command, parameters,
//                              backend, trials [{id, group, seed, settings}], expectations
//   trials/<id>/config.toml    the trial's resolved experiment: what every (re-)run of it uses
//   trials/<id>/status.json    how its last attempt ended (or that it is running)
//   trials/<id>/<name>/<run>/  an ordinary run directory
//   trials/<id>/output.txt     the run's stdout and stderr, every attempt appended
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "runs/json.hpp"
#include "study/plan.hpp"
#include "study/slurm.hpp"

namespace ablate::study {

/// A study as it is on disk: the plan (each trial's config read back from its config.toml) and
/// where it runs.
struct StudyDir {
  std::filesystem::path path;
  Study study;
  std::string backend = "local";  // local | slurm
  SlurmOptions slurm;             // when backend is slurm
};

/// root/<name>/<yyyymmdd-hhmmss>/ for a sweep, root/<name>/reproduce-<yyyymmdd-hhmmss>/ for a
/// reproduction; "-2", "-3"... appended when that folder exists. Nothing is created.
std::filesystem::path new_study_path(const std::filesystem::path& root, const Study& study);

/// Creates `dir.path`: each trial's config.toml, then manifest.json (atomically, last, so a
/// folder with a manifest is a complete plan). `command` is the command line that planned it.
/// An Error when the folder already holds a manifest.
void write_study(const StudyDir& dir, const std::vector<std::string>& command);

/// Rewrites the manifest's backend (and SLURM options) to `dir`'s: a study resumed on another
/// backend is followed there by later --status and --resume.
void record_backend(const StudyDir& dir);

/// Reads a study directory back; an Error naming the folder when it is not one.
/// Expectations are parsed again from their text (ConfigError if that fails).
StudyDir open_study(const std::filesystem::path& path);

/// Whether `path` holds a study's manifest.json (rather than a run's).
bool is_study_dir(const std::filesystem::path& path);

std::filesystem::path trial_path(const std::filesystem::path& study_dir, const std::string& id);
const Trial& find_trial(const StudyDir& dir, const std::string& id);  // Error when unknown

/// How a trial's last attempt ended, as its status.json says. `status` is one of
/// ok | failed | diverged | killed | interrupted | running, or "pending" when never started.
struct TrialStatus {
  std::string status = "pending";
  std::string reason;
  int exit_code = -1;   // the run's exit code; -1 when it was killed or never ended
  std::string signal;   // "SIGKILL" when killed by a signal
  std::string run_dir;  // relative to the study directory
  double seconds = 0;
  int pid = 0;  // while running: the child's pid on `host`
  std::string host;

  Json to_json() const;
  static TrialStatus from_json(const Json& json);
};

/// trials/<id>/status.json, or a pending status when there is none.
TrialStatus read_status(const std::filesystem::path& study_dir, const std::string& id);
void write_status(const std::filesystem::path& study_dir, const std::string& id,
                  const TrialStatus& status);

/// A "running" status whose process is gone (the supervisor was killed too): only decidable for
/// processes of this host; others are taken as alive.
bool is_stale(const TrialStatus& status);

/// The run directories under trials/<id>/: folders two levels down holding config.toml.
std::set<std::filesystem::path> run_dirs(const std::filesystem::path& trial_dir);
/// The newest of them (run folders are named <yyyymmdd-hhmmss>-<id>).
std::optional<std::filesystem::path> latest_run_dir(const std::filesystem::path& trial_dir);

/// A trial with what it left: its status and its run's summary.json (null when absent).
struct TrialOutcome {
  const Trial* trial = nullptr;
  TrialStatus status;
  Json summary;
};
std::vector<TrialOutcome> collect_outcomes(const StudyDir& dir);

}  // namespace ablate::study
