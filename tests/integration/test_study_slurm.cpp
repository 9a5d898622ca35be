// `ablate sweep --backend slurm` against a real single-node SLURM cluster: the CTest fixture
// slurm_cluster (tests/CMakeLists.txt) starts it with tools/slurm/test-cluster.sh and sets
// SLURM_CONF. Run by hand:
//   tools/slurm/test-cluster.sh start /tmp/c && SLURM_CONF=/tmp/c/slurm.conf ablate_tests "[slurm]"
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "study/slurm.hpp"
#include "study/study_dir.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using ablate::study::shell_quote;
using ablate::test::read_text;
using ablate::test::run_ablate;
using ablate::test::TempDir;

namespace {

// 2 learning rates x 2 seeds, a second or two per trial.
constexpr const char* kExperiment = R"([experiment]
name = "slurm sweep"
seeds = [1, 2]

[dataset]
plugin = "digits"

[topology]
plugin = "mlp"
hidden = [32]

[train]
epochs = 1
batch_size = 32
threads = 1

[sweep]
mode = "grid"
keys = { "train.lr" = [0.05, 0.1] }
)";

/// Polls `ablate sweep --status` until every trial ended ok; the last status output otherwise
/// (with the array tasks' own output, for the failure message).
std::string wait_until_all_ok(const fs::path& study, std::size_t trials) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  const std::string done = std::to_string(trials) + " trials: " + std::to_string(trials) + " ok";
  std::string last;
  while (std::chrono::steady_clock::now() < deadline) {
    last = run_ablate("sweep --status " + shell_quote(study.string())).output;
    if (last.find(done) != std::string::npos) return "";
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  for (const auto& file : fs::directory_iterator(study / "slurm"))
    if (file.path().extension() == ".out")
      last += "\n--- " + file.path().filename().string() + "\n" + read_text(file.path());
  return last.empty() ? "no status output" : last;
}

/// results.csv rows by trial id, without the columns that measure time.
std::map<std::string, std::string> results_without_times(const fs::path& study) {
  std::istringstream csv(read_text(study / "results.csv"));
  std::string header, line;
  std::getline(csv, header);
  std::vector<std::string> columns;
  std::istringstream header_fields(header);
  for (std::string c; std::getline(header_fields, c, ',');) columns.push_back(c);
  std::map<std::string, std::string> rows;
  while (std::getline(csv, line)) {
    std::istringstream fields(line);
    std::string kept, field;
    for (std::size_t i = 0; std::getline(fields, field, ','); ++i)
      if (i >= columns.size() || columns[i].find("seconds") == std::string::npos) kept += field + ",";
    rows[kept.substr(0, kept.find(','))] = kept;
  }
  return rows;
}

bool cluster_available() {
  const char* conf = std::getenv("SLURM_CONF");
  if (conf && fs::exists(conf)) return true;
  WARN("SLURM_CONF does not name a cluster's slurm.conf: run through CTest (fixture slurm_cluster) "
       "or start one with tools/slurm/test-cluster.sh (docs/SLURM.md); skipped");
  return false;
}

}  // namespace

TEST_CASE("a sweep on SLURM runs each trial as an array task and resumes only what is missing",
          "[slurm][slurm_cluster][e2e]") {
  if (!cluster_available()) return;
  // A folder with a space and a quote: every path on the way to sbatch and sh must survive it.
  TempDir tmp("slurm-sweep");
  const fs::path base = tmp / "it's a dir";
  ablate::test::write_text(base / "sweep.toml", kExperiment);
  const std::string file = shell_quote((base / "sweep.toml").string());

  const auto submitted = run_ablate("sweep " + file + " --backend slurm --time 10 --out " +
                                    shell_quote((base / "slurm").string()));
  INFO(submitted.output);
  REQUIRE(submitted.exit_code == 0);
  CHECK_THAT(submitted.output, Catch::Contains("4 array tasks"));
  const fs::path study = ablate::test::study_dir_of(submitted);
  REQUIRE(!study.empty());
  CHECK(read_text(study / "slurm" / "trials-1.txt").size() > 0);
  CHECK_THAT(read_text(study / "slurm" / "array-1.sbatch"), Catch::Contains("#SBATCH --time=10"));

  const std::string failure = wait_until_all_ok(study, 4);
  INFO(failure);
  REQUIRE(failure.empty());
  const std::vector<std::string> ids = [&] {
    std::vector<std::string> lines;
    std::istringstream in(read_text(study / "slurm" / "trials-1.txt"));
    for (std::string id; std::getline(in, id);) lines.push_back(id);
    return lines;
  }();
  REQUIRE(ids.size() == 4);
  for (const auto& id : ids) CHECK(ablate::study::read_status(study, id).status == "ok");
  // Each array task wrote its output where the script said.
  std::size_t task_outputs = 0;
  for (const auto& f : fs::directory_iterator(study / "slurm")) task_outputs += f.path().extension() == ".out";
  CHECK(task_outputs == 4);

  // The same sweep run locally gives the same figures: SLURM changes where trials run, not what.
  const auto local = run_ablate("sweep " + file + " -j 2 --out " + shell_quote((base / "local").string()));
  INFO(local.output);
  REQUIRE(local.exit_code == 0);
  const auto on_slurm = results_without_times(study);
  CHECK(on_slurm.size() == 4);
  CHECK(on_slurm == results_without_times(ablate::test::study_dir_of(local)));

  // One trial loses its status and run: --resume (backend from the manifest) resubmits only it.
  const std::string lost = ids[2];
  for (const auto& entry : fs::directory_iterator(study / "trials" / lost))
    if (entry.path().filename() != "config.toml") fs::remove_all(entry.path());
  std::map<std::string, std::string> kept;
  for (const auto& id : ids)
    if (id != lost) kept[id] = read_text(study / "trials" / id / "status.json");

  const auto resumed = run_ablate("sweep --resume " + shell_quote(study.string()));
  INFO(resumed.output);
  REQUIRE(resumed.exit_code == 0);
  CHECK_THAT(resumed.output, Catch::Contains("1 array tasks"));
  CHECK(read_text(study / "slurm" / "trials-2.txt") == lost + "\n");
  CHECK_THAT(read_text(study / "slurm" / "array-2.sbatch"), Catch::Contains("#SBATCH --time=10"));
  std::istringstream jobs(read_text(study / "slurm" / "jobs.txt"));
  std::set<std::string> job_ids;
  for (std::string job, k; jobs >> job >> k;) job_ids.insert(job);
  CHECK(job_ids.size() == 2);

  const std::string resume_failure = wait_until_all_ok(study, 4);
  INFO(resume_failure);
  REQUIRE(resume_failure.empty());
  CHECK(ablate::study::read_status(study, lost).status == "ok");
  for (const auto& [id, status] : kept) CHECK(read_text(study / "trials" / id / "status.json") == status);
  CHECK(results_without_times(study) == on_slurm);

  // A task whose node died mid-trial: status.json still says running, on a host that cannot be
  // asked, and the queue no longer lists it. --status calls it lost (and does not wait for it);
  // --resume resubmits it.
  ablate::test::write_text(study / "trials" / lost / "status.json",
                           R"({"status":"running","reason":"","exit_code":-1,"signal":"",)"
                           R"("run_dir":"","seconds":1.0,"pid":4242,"host":"a-node-that-died"})");
  const auto status = run_ablate("sweep --status " + shell_quote(study.string()));
  INFO(status.output);
  CHECK_THAT(status.output, Catch::Contains("4 trials: 1 lost, 3 ok"));
  CHECK_THAT(status.output, Catch::Contains("left the SLURM queue without ending"));
  const auto rerun = run_ablate("sweep --resume " + shell_quote(study.string()));
  INFO(rerun.output);
  REQUIRE(rerun.exit_code == 0);
  CHECK_THAT(rerun.output, Catch::Contains("1 array tasks"));
  CHECK(read_text(study / "slurm" / "trials-3.txt") == lost + "\n");
  // Resumed again at once, the resubmitted trial is in the queue (or already done): not twice.
  const auto again = run_ablate("sweep --resume " + shell_quote(study.string()));
  INFO(again.output);
  CHECK(!fs::exists(study / "slurm" / "trials-4.txt"));
  const std::string final_failure = wait_until_all_ok(study, 4);
  INFO(final_failure);
  REQUIRE(final_failure.empty());
}

TEST_CASE("the SLURM backend without SLURM says so", "[slurm][e2e]") {
  TempDir tmp("slurm-missing");
  ablate::test::write_text(tmp / "sweep.toml", kExperiment);
  // PATH without sbatch (the binary is called by its full path).
  const auto result = ablate::test::run_command(
      "env -u ABLATE_PLUGIN_PATH PATH=/nonexistent " + std::string(ABLATE_BINARY) + " sweep " +
      shell_quote((tmp / "sweep.toml").string()) + " --backend slurm --out " +
      shell_quote((tmp / "out").string()));
  CHECK(result.exit_code == 1);
  CHECK_THAT(result.output, Catch::Contains("sbatch not found: is SLURM installed?"));
}

TEST_CASE("an unsafe --partition is a usage error", "[slurm][e2e]") {
  TempDir tmp("slurm-partition");
  ablate::test::write_text(tmp / "sweep.toml", kExperiment);
  const auto result = run_ablate("sweep " + shell_quote((tmp / "sweep.toml").string()) +
                                 " --backend slurm --partition 'debug;id' --out " +
                                 shell_quote((tmp / "out").string()));
  CHECK(result.exit_code == 2);
  CHECK_THAT(result.output, Catch::Contains("--partition 'debug;id' is not valid"));
  CHECK(!fs::exists(tmp / "out"));  // refused before anything was written
}
