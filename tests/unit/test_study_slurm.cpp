// The SLURM backend's script, without a cluster: quoting proven by running it through /bin/sh,
// unsafe options refused. tests/integration/test_study_slurm.cpp submits to a real cluster.
#include <catch2/catch.hpp>

#include <filesystem>
#include <sstream>

#include "ablate/error.hpp"
#include "study/slurm.hpp"
#include "support.hpp"
#include "util/program.hpp"

namespace fs = std::filesystem;
using ablate::study::shell_quote;
using ablate::study::SlurmOptions;
using ablate::study::slurm_script;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool has_line(const std::string& text, const std::string& line) {
  const auto lines = lines_of(text);
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

}  // namespace

TEST_CASE("shell_quote gives /bin/sh back exactly the text", "[slurm]") {
  for (const std::string text : {"plain", "a b", "it's", "'", "''", "", "a'b'c d",
                                 "$HOME `id` $(id) \\ \" ; | & * ? ~ # %", "tab\there"}) {
    INFO(text);
    const auto result = ablate::run_program({"/bin/sh", "-c", "printf '%s' " + shell_quote(text)});
    REQUIRE(result.exit_code == 0);
    CHECK(result.out == text);
  }
}

TEST_CASE("the array script runs each task's trial, paths with a space and a quote intact",
          "[slurm]") {
  ablate::test::TempDir tmp("slurm-script");
  const fs::path base = tmp / "it's a study";
  const fs::path study = base / "sweeps" / "lr sweep" / "20261122-000000";
  const fs::path trials = study / "slurm" / "trials-1.txt";
  ablate::test::write_text(trials, "p000-s1\np001-s1\np002-s1\n");
  // A stand-in for the ablate binary, at an awkward path, printing the arguments it got.
  const fs::path binary = base / "bin dir" / "ab'late";
  ablate::test::write_text(binary, "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n");
  fs::permissions(binary, fs::perms::owner_all);

  const std::string script = slurm_script(study, trials, 3, SlurmOptions{}, binary);
  CHECK(has_line(script, "#SBATCH --array=0-2"));
  CHECK(has_line(script, "#SBATCH --job-name=ablate-lr_sweep"));
  CHECK(has_line(script, "#SBATCH --output=\"" + study.string() + "/slurm/%A_%a.out\""));
  CHECK(has_line(script, "#SBATCH --cpus-per-task=1"));
  CHECK(script.find("--partition") == std::string::npos);
  CHECK(script.find("--time") == std::string::npos);

  const fs::path script_file = tmp / "array.sbatch";
  ablate::test::write_text(script_file, script);
  for (int task = 0; task < 3; ++task) {
    const auto result = ablate::run_program(
        {"env", "SLURM_ARRAY_TASK_ID=" + std::to_string(task), "/bin/sh", script_file.string()});
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    const std::string id = "p00" + std::to_string(task) + "-s1";
    CHECK(lines_of(result.out) == std::vector<std::string>{"trial", study.string(), id});
  }
  // A task past the list fails loudly instead of running nothing.
  const auto past = ablate::run_program({"env", "SLURM_ARRAY_TASK_ID=3", "/bin/sh", script_file.string()});
  CHECK(past.exit_code != 0);
  CHECK(past.err.find("no trial on line 4") != std::string::npos);
}

TEST_CASE("the array script carries partition, time and cpus when given", "[slurm]") {
  const std::string script =
      slurm_script("/s/x/1", "/s/x/1/slurm/trials-1.txt", 1, {"gpu,debug", "1-02:30:00", 4}, "/a");
  CHECK(has_line(script, "#SBATCH --array=0-0"));
  CHECK(has_line(script, "#SBATCH --partition=gpu,debug"));
  CHECK(has_line(script, "#SBATCH --time=1-02:30:00"));
  CHECK(has_line(script, "#SBATCH --cpus-per-task=4"));
  // A % in the study path is SLURM's pattern character: doubled in --output.
  CHECK(has_line(slurm_script("/s/100%/1", "/t", 1, {}, "/a"),
                 "#SBATCH --output=\"/s/100%%/1/slurm/%A_%a.out\""));
}

TEST_CASE("unsafe SLURM options are configuration errors naming the option", "[slurm]") {
  const auto rejects = [](const SlurmOptions& options, const std::string& flag,
                          const std::string& says) {
    try {
      slurm_script("/s/x/1", "/t", 1, options, "/a");
      FAIL("accepted " + flag);
    } catch (const ablate::ConfigError& e) {
      CHECK(e.where() == flag);
      CHECK_THAT(e.what(), Catch::Contains(says));
    }
  };
  rejects({"debug; rm -rf ~", "", 1}, "--partition", "a partition name");
  rejects({"debug\n#SBATCH --mem=1T", "", 1}, "--partition", "a partition name");
  rejects({"$(id)", "", 1}, "--partition", "a partition name");
  rejects({"", "1 hour", 1}, "--time", "HH:MM:SS");
  rejects({"", "10'", 1}, "--time", "HH:MM:SS");
  rejects({"", "", 0}, "--cpus-per-task", "[1, 4096]");
  CHECK_THROWS_AS(slurm_script("/s/new\nline/1", "/t", 1, {}, "/a"), ablate::Error);
  CHECK_THROWS_AS(slurm_script("/s/x/1", "/t", 0, {}, "/a"), ablate::Error);
}

TEST_CASE("run_program reports stderr, and programs that do not start", "[slurm]") {
  const auto result = ablate::run_program({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"});
  CHECK(result.started);
  CHECK(result.exit_code == 3);
  CHECK(result.out == "out\n");
  CHECK(result.err == "err\n");
  const auto missing = ablate::run_program({"ablate-no-such-program"});
  CHECK_FALSE(missing.started);
  CHECK(missing.exit_code == -1);
  CHECK(ablate::current_executable().filename() == "ablate_tests");
}
