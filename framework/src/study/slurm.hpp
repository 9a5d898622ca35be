#pragma once
// The SLURM backend of `ablate sweep`: a study's trials as one sbatch job array, each array task
// running `ablate trial STUDY_DIR ID` into the same study directory a local sweep would use.
// Nothing from a config is pasted into shell text: paths are single-quoted, trial ids go through
// a file the script reads, and partition/time are checked against a safe pattern.
// Layout under the study directory (docs/SLURM.md):
//   slurm/array-<k>.sbatch   the k-th submission's script (k = 1, 2, ... one per submit)
//   slurm/trials-<k>.txt     its trial ids, one a line: array task i runs line i+1
//   slurm/jobs.txt           "<job id> <k>" per submission, appended
//   slurm/<job>_<task>.out   each array task's stdout and stderr
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace ablate::study {

struct SlurmOptions {
  std::string partition, time;  // empty: the cluster's default
  int cpus_per_task = 1;
};

/// ConfigError (where: the option, "--partition") unless partition, time and cpus_per_task are
/// values SLURM takes and safe in a script; submit_slurm checks too, this is for checking early.
void check_slurm_options(const SlurmOptions& options);

/// Writes <study_dir>/slurm/array-<k>.sbatch + trials-<k>.txt (k = submission count), submits
/// with sbatch, appends the job id to slurm/jobs.txt and returns it.
/// ConfigError for a bad partition/time/cpus; Error when sbatch is missing or refuses the job.
std::string submit_slurm(const std::filesystem::path& study_dir,
                         const std::vector<std::string>& trial_ids, const SlurmOptions& options);

/// Queue state of the study's array tasks still known to SLURM: trial id -> "PENDING",
/// "RUNNING", ... (squeue's long state names). Trials whose tasks left the queue are absent.
std::map<std::string, std::string> slurm_queue(const std::filesystem::path& study_dir);

// Pieces exposed for tests.

/// `text` as one single-quoted POSIX shell word ('it'\''s').
std::string shell_quote(const std::string& text);

/// The sbatch script for `trial_count` trials listed in `trials_file`, run by `ablate_binary`.
/// ConfigError when an option is unsafe or out of range.
std::string slurm_script(const std::filesystem::path& study_dir,
                         const std::filesystem::path& trials_file, std::size_t trial_count,
                         const SlurmOptions& options, const std::filesystem::path& ablate_binary);

}  // namespace ablate::study
