#include "study/slurm.hpp"

#include <algorithm>
#include <cctype>
#include <regex>
#include <sstream>

#include "ablate/error.hpp"
#include "util/atomic_file.hpp"
#include "util/program.hpp"

namespace ablate::study {
namespace {

namespace fs = std::filesystem;

void check_option(const std::string& flag, const std::string& value, const std::regex& pattern,
                  const std::string& valid) {
  if (!value.empty() && !std::regex_match(value, pattern))
    throw ConfigError(flag + " '" + value + "' is not valid: expected " + valid, flag);
}

}  // namespace

void check_slurm_options(const SlurmOptions& options) {
  // sbatch reads #SBATCH lines itself; these patterns keep anything it would parse out of them.
  static const std::regex partition(R"([A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*)");
  static const std::regex time(R"((\d+-)?\d+(:\d+){0,2}|UNLIMITED|INFINITE|unlimited|infinite)");
  check_option("--partition", options.partition, partition,
               "a partition name (letters, digits, '_', '-', '.'), or several separated by ','");
  check_option("--time", options.time, time,
               "a SLURM time limit: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS or UNLIMITED");
  if (options.cpus_per_task < 1 || options.cpus_per_task > 4096)
    throw ConfigError("--cpus-per-task " + std::to_string(options.cpus_per_task) +
                          " is out of range: integer in [1, 4096]",
                      "--cpus-per-task");
}

namespace {

/// `text` as one argument of an #SBATCH line: sbatch splits those at blanks and '#' unless
/// double-quoted, and takes a backslash as an escape.
std::string sbatch_quote(const std::string& text) {
  std::string quoted = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
}

/// A path sbatch and sh can both carry: newlines break script lines, and a backslash in an
/// --output name turns off SLURM's %-patterns.
void check_path(const fs::path& path) {
  const std::string text = path.string();
  if (text.find_first_of("\n\r\\") != std::string::npos)
    throw Error("the SLURM backend cannot use a path with a newline or backslash: '" + text + "'",
                text);
}

/// The job name: "ablate-" and the study's name (sweeps/<name>/<timestamp>), in safe characters.
std::string job_name(const fs::path& study_dir) {
  std::string name = "ablate-" + study_dir.parent_path().filename().string();
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
  return name;
}

fs::path slurm_folder(const fs::path& study_dir) { return study_dir / "slurm"; }

fs::path trials_file(const fs::path& study_dir, int submission) {
  return slurm_folder(study_dir) / ("trials-" + std::to_string(submission) + ".txt");
}

/// A submission: its job id and its number k (array-<k>.sbatch, trials-<k>.txt).
struct Submission {
  std::string job_id;
  int number = 0;
};

std::vector<Submission> read_jobs(const fs::path& study_dir) {
  std::vector<Submission> jobs;
  const fs::path file = slurm_folder(study_dir) / "jobs.txt";
  if (!fs::exists(file)) return jobs;
  std::istringstream lines(read_file(file));
  Submission job;
  while (lines >> job.job_id >> job.number) jobs.push_back(job);
  return jobs;
}

std::vector<std::string> read_lines(const fs::path& file) {
  std::vector<std::string> lines;
  std::istringstream in(read_file(file));
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

/// Runs a SLURM client; Error when it is missing or fails.
std::string run_slurm_client(const std::vector<std::string>& argv) {
  const ProgramResult result = run_program(argv);
  if (!result.started)
    throw Error(argv[0] + " not found: is SLURM installed? (the SLURM backend needs its client "
                "commands sbatch and squeue on PATH)");
  if (result.exit_code != 0) {
    std::string reason = result.err.empty() ? result.out : result.err;
    while (!reason.empty() && std::isspace(static_cast<unsigned char>(reason.back()))) reason.pop_back();
    throw Error(argv[0] + " failed (exit code " + std::to_string(result.exit_code) +
                "): " + reason);
  }
  return result.out;
}

}  // namespace

std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (const char c : text) {
    if (c == '\'')
      quoted += "'\\''";
    else
      quoted += c;
  }
  return quoted + "'";
}

std::string slurm_script(const fs::path& study_dir, const fs::path& trials, std::size_t trial_count,
                         const SlurmOptions& options, const fs::path& ablate_binary) {
  check_slurm_options(options);
  for (const fs::path& path : {study_dir, trials, ablate_binary}) check_path(path);
  if (trial_count == 0) throw Error("no trials to submit to SLURM", study_dir.string());
  // %-patterns in --output are SLURM's (%A job, %a task); a literal % in the path is %%.
  std::string output_dir;
  for (const char c : (slurm_folder(study_dir)).string()) {
    output_dir += c;
    if (c == '%') output_dir += '%';
  }

  std::ostringstream script;
  script << "#!/bin/sh\n"
         << "# Written by `ablate sweep --backend slurm`: array task i runs the trial on line i+1\n"
         << "# of the trials file, into the study directory. docs/SLURM.md explains it.\n"
         << "#SBATCH --job-name=" << job_name(study_dir) << "\n"
         << "#SBATCH --array=0-" << (trial_count - 1) << "\n"
         << "#SBATCH --output=" << sbatch_quote(output_dir + "/%A_%a.out") << "\n";
  if (!options.partition.empty()) script << "#SBATCH --partition=" << options.partition << "\n";
  if (!options.time.empty()) script << "#SBATCH --time=" << options.time << "\n";
  script << "#SBATCH --cpus-per-task=" << options.cpus_per_task << "\n"
         << "set -eu\n"
         << "id=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" " << shell_quote(trials.string())
         << ")\n"
         << "if [ -z \"$id\" ]; then echo \"no trial on line $((SLURM_ARRAY_TASK_ID + 1))\" >&2; "
            "exit 1; fi\n"
         << "exec " << shell_quote(ablate_binary.string()) << " trial "
         << shell_quote(study_dir.string()) << " \"$id\"\n";
  return script.str();
}

std::string submit_slurm(const fs::path& study_dir_given, const std::vector<std::string>& trial_ids,
                         const SlurmOptions& options) {
  const fs::path study_dir = fs::absolute(study_dir_given).lexically_normal();
  const fs::path folder = slurm_folder(study_dir);
  create_folders(folder);
  int submission = 1;
  while (fs::exists(folder / ("array-" + std::to_string(submission) + ".sbatch"))) ++submission;

  std::string ids;
  for (const std::string& id : trial_ids) {
    if (id.empty() || id.find_first_of("\n\r") != std::string::npos)
      throw Error("trial id '" + id + "' cannot be listed for SLURM", study_dir.string());
    ids += id + "\n";
  }
  const fs::path trials = trials_file(study_dir, submission);
  const fs::path script_file = folder / ("array-" + std::to_string(submission) + ".sbatch");
  const std::string script =
      slurm_script(study_dir, trials, trial_ids.size(), options, current_executable());
  write_atomic(trials, ids);
  write_atomic(script_file, script);

  // --parsable prints "<job id>" or "<job id>;<cluster>". A refused script is removed, so the
  // numbers k count submissions.
  std::string job_id;
  try {
    job_id = run_slurm_client({"sbatch", "--parsable", script_file.string()});
  } catch (const Error&) {
    std::error_code ignored;
    fs::remove(script_file, ignored);
    fs::remove(trials, ignored);
    throw;
  }
  job_id = job_id.substr(0, job_id.find_first_of(";\n"));
  if (job_id.empty() || !std::all_of(job_id.begin(), job_id.end(), ::isdigit))
    throw Error("sbatch printed no job id: '" + job_id + "'", script_file.string());

  const fs::path jobs = folder / "jobs.txt";
  const std::string before = fs::exists(jobs) ? read_file(jobs) : std::string();
  write_atomic(jobs, before + job_id + " " + std::to_string(submission) + "\n");
  return job_id;
}

std::map<std::string, std::string> slurm_queue(const fs::path& study_dir) {
  std::map<std::string, std::string> states;
  const std::vector<Submission> jobs = read_jobs(study_dir);
  if (jobs.empty()) return states;
  // The user's jobs, one line per array task ("<array job id> <task index> <state>"), filtered
  // here: squeue -j fails outright when one of the ids has left the queue.
  std::istringstream lines(run_slurm_client({"squeue", "--me", "--noheader", "--array", "--format=%F %K %T"}));
  std::map<std::string, std::vector<std::string>> trials_of_job;
  for (const Submission& job : jobs)
    trials_of_job[job.job_id] = read_lines(trials_file(study_dir, job.number));
  std::string job_id, task, state;
  while (lines >> job_id >> task >> state) {
    const auto trials = trials_of_job.find(job_id);
    if (trials == trials_of_job.end()) continue;
    std::size_t index = 0;
    if (std::istringstream(task) >> index && index < trials->second.size())
      states[trials->second[index]] = state;
  }
  return states;
}

}  // namespace ablate::study
