// `ablate sweep`, `ablate reproduce`, `ablate compare` and the hidden `ablate trial`: planning a
// study into its directory, running its trials (a local pool or a SLURM job array), and what the
// trials amount to (docs/EXPERIMENT_FILES.md, "Running studies").
#include <fmt/format.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <iostream>
#include <map>
#include <optional>

#include "ablate/error.hpp"
#include "cli/commands.hpp"
#include "plugins/registry.hpp"
#include "study/compare.hpp"
#include "study/plan.hpp"
#include "study/results.hpp"
#include "study/runner.hpp"
#include "study/slurm.hpp"
#include "study/study_dir.hpp"
#include "util/atomic_file.hpp"
#include "util/dir_lock.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace ablate::cli {
namespace {

using namespace ablate::study;

// Exit codes beyond 0 ok / 1 a trial failed / 2 usage or configuration error.
constexpr int kFindingFails = 3;
constexpr int kMaxJobs = 256;

/// The figures findings read ("metric" of "arm.metric"), so the table shows them too.
std::vector<std::string> finding_metrics(const Study& study) {
  std::vector<std::string> metrics;
  for (const Expectation& e : study.expectations)
    for (const FigureRef& f : e.check.figures()) metrics.push_back(f.metric);
  metrics.push_back("seconds");
  return metrics;
}

/// Writes results.csv and table.txt (findings.txt / .json for a reproduction) from what the
/// trials left, prints the tables and returns the study's exit code.
int report(const StudyDir& dir) {
  const std::vector<TrialOutcome> outcomes = collect_outcomes(dir);
  write_atomic(dir.path / "results.csv", results_csv(dir.study, outcomes));
  const std::vector<GroupSummary> groups = summarize_groups(outcomes);
  const std::string table =
      groups_table(groups, main_figures(figures_present(groups), finding_metrics(dir.study)));
  write_atomic(dir.path / "table.txt", table);
  std::cout << "\n" << table;

  std::size_t not_ok = 0;
  for (const TrialOutcome& o : outcomes) not_ok += o.status.status != "ok";
  const std::string resume_hint =
      "ablate " + std::string(to_string(dir.study.kind)) + " --resume " + dir.path.string();
  if (not_ok > 0)
    std::cout << "\n"
              << not_ok << " of " << outcomes.size()
              << " trials did not end ok; to run them again: " << resume_hint << "\n";

  int code = not_ok > 0 ? 1 : 0;
  if (dir.study.kind == StudyKind::reproduce) {
    const std::vector<FindingResult> findings = evaluate_findings(dir.study, outcomes);
    const std::string text = findings_text(findings);
    write_atomic(dir.path / "findings.txt", text);
    write_atomic(dir.path / "findings.json", findings_json(findings).dump() + "\n");
    std::cout << "\n" << text;
    bool fails = false, unevaluated = false;
    for (const FindingResult& f : findings) {
      fails |= f.verdict == Verdict::fails;
      unevaluated |= f.verdict == Verdict::unevaluated;
    }
    // A finding left unevaluated by failed trials means the reproduction is incomplete (1);
    // otherwise a finding that fails is the answer (3).
    if (unevaluated)
      code = 1;
    else if (fails)
      code = kFindingFails;
  }
  std::cout << "\nstudy: " << dir.path.string() << " (results.csv, table.txt"
            << (dir.study.kind == StudyKind::reproduce ? ", findings.txt" : "") << ")\n";
  return code;
}

SlurmOptions slurm_options(const po::variables_map& vm, SlurmOptions fallback) {
  if (vm.count("partition")) fallback.partition = vm["partition"].as<std::string>();
  if (vm.count("time")) fallback.time = vm["time"].as<std::string>();
  if (vm.count("cpus-per-task")) fallback.cpus_per_task = vm["cpus-per-task"].as<int>();
  return fallback;
}

/// Runs `ids` of the study on its backend: the local pool (then the report), or one SLURM job
/// array (then how to follow it).
int execute(const StudyDir& dir, const std::vector<std::string>& ids, int jobs) {
  if (dir.backend == "slurm") {
    const std::string job = submit_slurm(dir.path, ids, dir.slurm);
    std::cout << "submitted SLURM job " << job << ": " << ids.size() << " array tasks\n"
              << "follow it with: ablate " << to_string(dir.study.kind) << " --status "
              << dir.path.string() << "\n";
    return 0;
  }
  std::cout << "running " << ids.size() << " trials, " << jobs << " at a time\n" << std::flush;
  run_local(dir.path, ids, jobs);
  const int code = report(dir);
  if (was_interrupted()) {
    std::cout << "interrupted: continue with ablate " << to_string(dir.study.kind)
              << " --resume " << dir.path.string() << "\n";
    return 1;
  }
  return code;
}

/// The SLURM queue of a study on that backend (trial id -> squeue state); nothing for a local
/// study, or when squeue cannot be asked (then a note says so).
std::optional<std::map<std::string, std::string>> queue_of(const StudyDir& dir) {
  if (dir.backend != "slurm") return std::nullopt;
  try {
    return slurm_queue(dir.path);
  } catch (const std::exception& e) {
    std::cout << "(SLURM queue unavailable: " << e.what() << ")\n";
    return std::nullopt;
  }
}

/// What a trial is doing now: its status.json, corrected by what that file cannot know. A local
/// supervisor that died leaves "running" behind ("stale"); a SLURM task waits in the queue
/// ("queued (PENDING)") or left it without ending, killed by SLURM or its node ("lost").
std::string current_state(const TrialStatus& status, const std::string& id,
                          const std::optional<std::map<std::string, std::string>>& queue) {
  if (is_stale(status)) return "stale";
  if (!queue || (status.status != "pending" && status.status != "running")) return status.status;
  const auto it = queue->find(id);
  if (it == queue->end()) return "lost";
  return it->second == "RUNNING" ? "running" : "queued (" + it->second + ")";
}

bool in_progress(const std::string& state) {
  return state == "running" || state.starts_with("queued");
}

/// Trials to run again: every one not ok, except those running or queued somewhere.
std::vector<std::string> unfinished(const StudyDir& dir) {
  const auto queue = queue_of(dir);
  std::vector<std::string> ids;
  for (const Trial& trial : dir.study.trials) {
    const TrialStatus status = read_status(dir.path, trial.id);
    const std::string state = current_state(status, trial.id, queue);
    if (state == "ok") continue;
    if (in_progress(state)) {
      std::cout << "skipping " << trial.id << ": " << state
                << (status.pid > 0 ? " (pid " + std::to_string(status.pid) + " on " + status.host + ")" : "")
                << "\n";
      continue;
    }
    ids.push_back(trial.id);
  }
  return ids;
}

/// A row per trial with its state (SLURM's queue state for trials waiting there); the report
/// too once nothing is pending or running.
int print_status(const StudyDir& dir) {
  const auto queue = queue_of(dir);
  std::vector<std::vector<std::string>> rows{
      {"trial", "group", "seed", "status", "seconds", "reason"}};
  std::map<std::string, std::size_t> counts;
  bool busy = false;
  for (const Trial& trial : dir.study.trials) {
    const TrialStatus status = read_status(dir.path, trial.id);
    const std::string state = current_state(status, trial.id, queue);
    ++counts[state];
    busy = busy || in_progress(state) || (state == "pending" && !queue && dir.backend == "slurm");
    rows.push_back({trial.id, trial.group, std::to_string(trial.seed), state,
                    status.status == "pending" ? "" : fmt::format("{:.1f}", status.seconds),
                    state == "lost" ? "left the SLURM queue without ending: resume reruns it"
                                    : status.reason});
  }
  std::cout << dir.study.name << " (" << to_string(dir.study.kind) << ", " << dir.backend
            << "): " << dir.path.string() << "\n\n"
            << aligned_table(rows) << "\n";
  std::string tally;
  for (const auto& [state, n] : counts)
    tally += (tally.empty() ? "" : ", ") + std::to_string(n) + " " + state;
  std::cout << dir.study.trials.size() << " trials: " << tally << "\n";
  return busy ? 0 : report(dir);
}

/// `ablate sweep` and `ablate reproduce`: one command line, planned by `kind`.
int study_command(const std::vector<std::string>& args, StudyKind kind) {
  const std::string name = to_string(kind);
  po::options_description options("ablate " + name);
  options.add_options()("file", po::value<std::string>(), "experiment TOML file")(
      "set", po::value<std::vector<std::string>>()->composing(),
      "override a key in every trial: --set train.epochs=2")(
      "jobs,j", po::value<int>()->default_value(1), "trials run at a time (local backend)")(
      "out", po::value<std::string>()->default_value(kind == StudyKind::sweep ? "sweeps" : "runs"),
      "folder the study directory goes under (<out>/<name>/...)")(
      "resume", po::value<std::string>(),
      "run again every trial of this study that did not end ok")(
      "status", po::value<std::string>(), "show each trial's state in this study")(
      "backend", po::value<std::string>()->default_value("local"),
      "local (a pool of -j processes) or slurm (one sbatch job array)")(
      "partition", po::value<std::string>(), "SLURM partition (default: the cluster's)")(
      "time", po::value<std::string>(), "SLURM time limit per trial, e.g. 00:30:00")(
      "cpus-per-task", po::value<int>(), "SLURM CPUs per trial (default 1)");
  po::positional_options_description positional;
  positional.add("file", 1);
  po::variables_map vm;
  const std::string usage =
      "ablate " + name +
      " FILE [--set key=value]... [-j N] [--out DIR] "
      "[--backend local|slurm [--partition P] [--time T] [--cpus-per-task C]]\n"
      "       ablate " +
      name +
      " --resume DIR [-j N] [--backend ...]\n"
      "       ablate " +
      name + " --status DIR";
  if (!parse(args, usage.c_str(), options, positional, vm)) return 0;

  const int given = static_cast<int>(vm.count("file") + vm.count("resume") + vm.count("status"));
  if (given != 1)
    throw ConfigError("ablate " + name +
                      " needs exactly one of FILE, --resume DIR or --status DIR");
  const int jobs = vm["jobs"].as<int>();
  if (jobs < 1 || jobs > kMaxJobs)
    throw ConfigError("-j " + std::to_string(jobs) + " is out of range: [1, " +
                      std::to_string(kMaxJobs) + "]");
  const std::string backend = vm["backend"].as<std::string>();
  if (backend != "local" && backend != "slurm")
    throw ConfigError("--backend " + backend + " is not one of: local, slurm");

  if (vm.count("status")) return print_status(open_study(vm["status"].as<std::string>()));

  if (vm.count("resume")) {
    StudyDir dir = open_study(vm["resume"].as<std::string>());
    // One supervisor per study: a second would start the same trials again beside the first.
    const DirectoryLock lock(dir.path, "study directory");
    if (dir.study.kind != kind)
      throw ConfigError(dir.path.string() + " is a " + to_string(dir.study.kind) +
                        " study: resume it with ablate " + to_string(dir.study.kind) +
                        " --resume");
    // What is left is judged on the backend the trials were started on; then the study moves.
    const std::vector<std::string> ids = unfinished(dir);
    const std::string started_on = dir.backend;
    if (!vm["backend"].defaulted()) dir.backend = backend;
    dir.slurm = slurm_options(vm, dir.slurm);
    if (dir.backend == "slurm") check_slurm_options(dir.slurm);
    if (dir.backend != started_on || dir.backend == "slurm") record_backend(dir);
    if (ids.empty()) {
      std::cout << "every trial of " << dir.path.string() << " has ended ok\n";
      return report(dir);
    }
    return execute(dir, ids, jobs);
  }

  Registry registry;
  const fs::path file = vm["file"].as<std::string>();
  Study planned = kind == StudyKind::sweep ? plan_sweep(file, overrides(vm), registry)
                                           : plan_reproduce(file, overrides(vm), registry);
  StudyDir dir;
  dir.path = new_study_path(vm["out"].as<std::string>(), planned);
  dir.study = std::move(planned);
  dir.backend = backend;
  dir.slurm = slurm_options(vm, {});
  if (backend == "slurm") check_slurm_options(dir.slurm);  // before anything is written
  std::vector<std::string> command{"ablate", name};
  command.insert(command.end(), args.begin(), args.end());
  write_study(dir, command);
  const DirectoryLock lock(dir.path, "study directory");
  std::cout << dir.study.name << ": " << dir.study.trials.size() << " trials planned in "
            << dir.path.string() << "\n";
  std::vector<std::string> ids;
  for (const Trial& trial : dir.study.trials) ids.push_back(trial.id);
  return execute(dir, ids, jobs);
}

}  // namespace

int sweep(const std::vector<std::string>& args) { return study_command(args, StudyKind::sweep); }

int reproduce(const std::vector<std::string>& args) {
  return study_command(args, StudyKind::reproduce);
}

int compare(const std::vector<std::string>& args) {
  po::options_description options("ablate compare");
  options.add_options()("dirs", po::value<std::vector<std::string>>()->required(),
                        "run directories and study directories");
  po::positional_options_description positional;
  positional.add("dirs", -1);
  po::variables_map vm;
  if (!parse(args, "ablate compare DIR...", options, positional, vm)) return 0;
  std::vector<fs::path> dirs;
  for (const auto& d : vm["dirs"].as<std::vector<std::string>>()) dirs.emplace_back(d);
  std::cout << compare_table(dirs);
  return 0;
}

int trial(const std::vector<std::string>& args) {
  po::options_description options("ablate trial");
  options.add_options()("dir", po::value<std::string>()->required(), "the study directory")(
      "id", po::value<std::string>()->required(), "the trial's id");
  po::positional_options_description positional;
  positional.add("dir", 1).add("id", 1);
  po::variables_map vm;
  if (!parse(args, "ablate trial STUDY_DIR ID   (runs one trial; SLURM array tasks call it)",
             options, positional, vm))
    return 0;
  const StudyDir dir = open_study(vm["dir"].as<std::string>());
  const std::string id = vm["id"].as<std::string>();
  find_trial(dir, id);  // an unknown id is an error before anything runs
  const std::vector<TrialStatus> statuses = run_local(dir.path, {id}, 1);
  return statuses.front().status == "ok" ? 0 : 1;
}

}  // namespace ablate::cli
