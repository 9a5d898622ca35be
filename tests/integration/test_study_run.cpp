// `ablate sweep`, `reproduce` and `compare` end to end: the real binary running real trials
// (sklearn's digits, MLP [32], 2 epochs, one thread: about a second each) as child processes.
// The study_probe test orderer (tests/plugins/study_probe.cpp) makes a trial fail on purpose, or
// pause after its first checkpoint so that a test can kill it mid-run.
#include <signal.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <regex>
#include <thread>

#include "runs/json.hpp"
#include "study/study_dir.hpp"
#include "support.hpp"

using namespace ablate::test;
namespace fs = std::filesystem;

namespace {

/// A small digits experiment using the probe orderer; `extra` adds sections ([sweep], [[arm]]...).
std::string experiment(const std::string& name, const std::string& seeds,
                       const std::string& extra) {
  return "[experiment]\nname = \"" + name + "\"\nseeds = " + seeds +
         "\nplugin_paths = [\"" ABLATE_TEST_PLUGIN_DIR
         "/study_probe\"]\n\n"
         "[dataset]\nplugin = \"digits\"\n\n"
         "[topology]\nplugin = \"mlp\"\nhidden = [32]\n\n"
         "[orderer]\nplugin = \"study_probe\"\n\n"
         "[train]\nepochs = 2\nbatch_size = 64\nthreads = 1\ncheckpoint_every = 1\n\n" +
         extra;
}

ablate::Json read_json(const fs::path& file) { return ablate::Json::parse(read_text(file)); }

std::string status_of(const fs::path& study, const std::string& id) {
  return ablate::study::read_status(study, id).status;
}

/// A file named `name` somewhere under `root` (empty if none), tolerating files that come and go.
fs::path find_file(const fs::path& root, const std::string& name) {
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().filename() == name) return it->path();
  return {};
}

std::vector<std::string> trial_ids(const fs::path& study) {
  std::vector<std::string> ids;
  for (const auto& trial : ablate::study::open_study(study).study.trials) ids.push_back(trial.id);
  return ids;
}

}  // namespace

TEST_CASE(
    "a 2-point x 2-seed sweep runs 4 trials into results.csv and a mean ± std table, "
    "compare puts it beside a run",
    "[study][e2e]") {
  TempDir tmp("ablate-sweep");
  write_text(tmp / "sweep.toml",
             experiment("sweepy", "[1, 2]",
                        "[sweep]\nmode = \"grid\"\nkeys = { \"train.lr\" = [0.05, 0.1] }\n"));
  const auto r = run_ablate("sweep " + (tmp / "sweep.toml").string() + " -j 2 --out " +
                            (tmp / "sweeps").string());
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const fs::path study = study_dir_of(r);
  REQUIRE(fs::exists(study / "manifest.json"));
  CHECK(study.parent_path() == tmp / "sweeps" / "sweepy");

  const ablate::Json manifest = read_json(study / "manifest.json");
  CHECK(manifest.at("kind").as_string() == "sweep");
  CHECK(manifest.at("source_sha256").as_string().size() == 64);
  const auto ids = trial_ids(study);
  REQUIRE(ids.size() == 4);
  for (const auto& id : ids) {
    CHECK(status_of(study, id) == "ok");
    CHECK(fs::exists(study / "trials" / id / "config.toml"));
    CHECK(fs::exists(study / "trials" / id / "output.txt"));
  }
  CHECK_THAT(r.output, Catch::Contains("[4/4]"));
  CHECK_THAT(r.output, Catch::Contains("test_accuracy"));

  const std::string csv = read_text(study / "results.csv");
  CHECK(count_lines(csv) == 5);
  CHECK_THAT(csv, Catch::StartsWith("id,group,seed,train.lr,status,"));
  CHECK_THAT(csv, Catch::Contains("test_accuracy"));
  CHECK_THAT(csv, Catch::Contains(",0.05,ok,"));
  CHECK_THAT(csv, Catch::Contains(",0.1,ok,"));

  const std::string table = read_text(study / "table.txt");
  CHECK(count_lines(table) == 4);  // header, rule, two groups
  CHECK_THAT(table, Catch::Contains("2/2"));
  CHECK_THAT(table, Catch::Contains("±"));
  CHECK_THAT(r.output, Catch::Contains(table));

  // compare: one of the trials' run directories beside the whole sweep.
  const std::string run_dir =
      read_json(study / "trials" / ids[0] / "status.json").at("run_dir").as_string();
  const auto c = run_ablate("compare " + (study / run_dir).string() + " " + study.string());
  INFO(c.output);
  REQUIRE(c.exit_code == 0);
  // Short column headers; the legend names each column and its folder.
  const std::string first_line = c.output.substr(0, c.output.find('\n'));
  CHECK(std::regex_search(first_line, std::regex(R"(^figure +\[1\] +\[2\] +\[3\])")));
  CHECK_THAT(c.output, Catch::Contains("[1]  " + (study / run_dir).filename().string() + " "));
  CHECK_THAT(c.output, Catch::Contains((study / run_dir).string() + "\n"));
  CHECK_THAT(c.output, Catch::Contains("[3]  sweepy "));  // the second group of the study
  CHECK_THAT(c.output, Catch::Contains("test_accuracy"));
  CHECK_THAT(c.output, Catch::Contains("±"));
  // Which config keys differ: the swept learning rate, and the seed, which varies within each
  // group (the run's own seed beside them); keys all columns share are left out.
  const std::string seed = std::to_string(read_json(study / "manifest.json").at("trials").at(0).at("seed").as_integer());
  CHECK(std::regex_search(c.output, std::regex(R"(\nconfig key +\[1\] +\[2\] +\[3\])")));
  CHECK(std::regex_search(c.output, std::regex(R"(\ntrain\.lr +0\.05 +0\.05 +0\.1\n)")));
  CHECK(std::regex_search(c.output, std::regex(R"(\nexperiment\.seed +)" + seed + R"( +\(varies\) +\(varies\)\n)")));
  CHECK_FALSE(std::regex_search(c.output, std::regex(R"(\ntrain\.epochs )")));
  CHECK(run_ablate("compare " + (tmp / "nothing").string()).exit_code != 0);
}

TEST_CASE("a trial whose run fails fails alone, with its reason", "[study][e2e]") {
  TempDir tmp("ablate-sweep-fail");
  write_text(tmp / "sweep.toml",
             experiment("failing", "[1]",
                        "[sweep]\nmode = \"grid\"\n"
                        "keys = { \"orderer.fail\" = [\"\", \"probe failure on purpose\"] }\n"));
  const auto r = run_ablate("sweep " + (tmp / "sweep.toml").string() + " -j 2 --out " +
                            (tmp / "sweeps").string());
  INFO(r.output);
  CHECK(r.exit_code == 1);
  const fs::path study = study_dir_of(r);
  const auto ids = trial_ids(study);
  REQUIRE(ids.size() == 2);
  std::vector<std::string> statuses{status_of(study, ids[0]), status_of(study, ids[1])};
  std::sort(statuses.begin(), statuses.end());
  CHECK(statuses == std::vector<std::string>{"failed", "ok"});
  for (const auto& id : ids)
    if (status_of(study, id) == "failed") {
      const auto status = read_json(study / "trials" / id / "status.json");
      CHECK_THAT(status.at("reason").as_string(), Catch::Contains("probe failure on purpose"));
      CHECK(status.at("exit_code").as_integer() == 1);
    }
  const auto s = run_ablate("sweep --status " + study.string());
  INFO(s.output);
  CHECK_THAT(s.output, Catch::Contains("1 failed, 1 ok"));
  CHECK_THAT(s.output, Catch::Contains("probe failure on purpose"));
}

TEST_CASE(
    "a trial killed mid-run is recorded as killed, --resume continues it from its "
    "checkpoint with the planned config, whatever the file says now",
    "[study][e2e]") {
  TempDir tmp("ablate-sweep-kill");
  // One trial that pauses (a minute at most) after its first checkpoint: the test kills it there.
  write_text(tmp / "sweep.toml",
             experiment("killed", "[1]",
                        "[sweep]\nmode = \"grid\"\nkeys = { \"orderer.pause_seconds\" = [60] }\n"));
  auto sweep = std::async(std::launch::async, [&] {
    return run_ablate("sweep " + (tmp / "sweep.toml").string() + " --out " +
                      (tmp / "sweeps").string());
  });
  // Wait for the trial's run to have a checkpoint, then SIGKILL the child.
  fs::path study, checkpoint;
  int pid = 0;
  for (int i = 0; i < 1200 && pid == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    checkpoint = find_file(tmp / "sweeps", "last.safetensors");
    if (checkpoint.empty()) continue;
    // <study>/trials/<id>/<name>/<run>/checkpoints/last.safetensors
    const fs::path trial = checkpoint.parent_path().parent_path().parent_path().parent_path();
    study = trial.parent_path().parent_path();
    const auto status = read_json(trial / "status.json");
    if (status.at("status").as_string() == "running")
      pid = static_cast<int>(status.at("pid").as_integer());
  }
  REQUIRE(pid > 0);
  REQUIRE(::kill(pid, SIGKILL) == 0);
  const auto r = sweep.get();
  INFO(r.output);
  CHECK(r.exit_code == 1);
  REQUIRE(study == study_dir_of(r));
  const std::string id = trial_ids(study).at(0);
  const auto killed = read_json(study / "trials" / id / "status.json");
  CHECK(killed.at("status").as_string() == "killed");
  CHECK(killed.at("signal").as_string() == "SIGKILL");
  CHECK_THAT(killed.at("reason").as_string(), Catch::Contains("SIGKILL"));
  const std::string run_dir = killed.at("run_dir").as_string();
  CHECK_FALSE(run_dir.empty());

  // Editing the experiment now changes nothing planned: this file would not even load.
  write_text(tmp / "sweep.toml",
             "[experiment]\nname = \"killed\"\n[topology]\nplugin = \"nope\"\n");
  const auto resumed = run_ablate("sweep --resume " + study.string());
  INFO(resumed.output);
  REQUIRE(resumed.exit_code == 0);
  const auto ok = read_json(study / "trials" / id / "status.json");
  CHECK(ok.at("status").as_string() == "ok");
  CHECK(ok.at("run_dir").as_string() == run_dir);  // continued in place, not started over
  CHECK_THAT(read_text(study / "trials" / id / "output.txt"), Catch::Contains(" resume "));
  CHECK(read_json(study / run_dir / "summary.json").at("epochs").as_integer() == 2);
  CHECK_THAT(read_text(study / run_dir / "config.toml"), Catch::Contains("study_probe"));
  // Nothing left to do: a second resume runs nothing and says so.
  const auto again = run_ablate("sweep --resume " + study.string());
  CHECK(again.exit_code == 0);
  CHECK_THAT(again.output, Catch::Contains("has ended ok"));
}

TEST_CASE(
    "reproduce checks its findings: one holds and one fails -> exit 3 and findings.txt, "
    "a failed arm leaves its finding unevaluated -> exit 1",
    "[study][e2e]") {
  TempDir tmp("ablate-reproduce");
  write_text(tmp / "findings.toml",
             experiment("findings", "[1, 2]",
                        "[[arm]]\nname = \"base\"\n\n"
                        "[[arm]]\nname = \"tiny\"\nset = { \"topology.hidden\" = [2] }\n\n"
                        "[[expect]]\nfinding = \"an MLP learns digits\"\n"
                        "check = \"base.test_accuracy > 0.5\"\n\n"
                        "[[expect]]\nfinding = \"two hidden units are perfect\"\n"
                        "check = \"tiny.test_accuracy > 0.999\"\n"));
  const auto r = run_ablate("reproduce " + (tmp / "findings.toml").string() + " -j 2 --out " +
                            (tmp / "runs").string());
  INFO(r.output);
  CHECK(r.exit_code == 3);
  const fs::path study = study_dir_of(r);
  CHECK_THAT(study.filename().string(), Catch::StartsWith("reproduce-"));
  CHECK(study.parent_path() == tmp / "runs" / "findings");
  const std::string findings = read_text(study / "findings.txt");
  CHECK_THAT(findings, Catch::Contains("HOLDS          an MLP learns digits"));
  CHECK_THAT(findings, Catch::Contains("FAILS          two hidden units are perfect"));
  CHECK_THAT(findings, Catch::Contains("base.test_accuracy"));
  CHECK_THAT(r.output, Catch::Contains(findings));
  const auto json = read_json(study / "findings.json");
  REQUIRE(json.size() == 2);
  CHECK(json.at(0).at("verdict").as_string() == "HOLDS");
  CHECK(json.at(0).at("figures").at("base.test_accuracy").at("n").as_integer() == 2);

  write_text(
      tmp / "broken.toml",
      experiment("broken", "[1]",
                 "[[arm]]\nname = \"base\"\n\n"
                 "[[arm]]\nname = \"broken\"\nset = { \"orderer.fail\" = \"on purpose\" }\n\n"
                 "[[expect]]\nfinding = \"it breaks\"\n"
                 "check = \"broken.test_accuracy < base.test_accuracy\"\n"));
  const auto b = run_ablate("reproduce " + (tmp / "broken.toml").string() + " -j 2 --out " +
                            (tmp / "runs").string());
  INFO(b.output);
  CHECK(b.exit_code == 1);
  CHECK_THAT(b.output, Catch::Contains("NOT EVALUATED"));
  CHECK_THAT(b.output, Catch::Contains("trial broken-s1 failed (on purpose"));
}

TEST_CASE("reproduce with a [regime]: each finding's verdict at each value, and where it holds",
          "[study][regime]") {
  // A 5x larger learning rate is ahead early in training and not once both have converged:
  // the finding claims the first two epochs counts and must fail at the third.
  TempDir tmp("ablate-regime");
  const fs::path file = tmp / "regime.toml";
  write_text(file, kRegimeStudy);
  const auto r = run_ablate("reproduce " + file.string() + " -j 2 --out " + (tmp / "s").string());
  INFO(r.output);
  CHECK(r.exit_code == 3);  // the second finding fails: that is the answer
  CHECK_THAT(r.output, Catch::Contains("found:   holds for train.epochs <= 3, fails above"));
  const fs::path study = study_dir_of(r);
  REQUIRE(fs::exists(study / "findings.json"));
  const ablate::Json findings = read_json(study / "findings.json");
  REQUIRE(findings.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    const ablate::Json& f = findings.as_array()[i];
    CHECK(f.at("verdict").as_string() == (i == 0 ? "HOLDS" : "FAILS"));
    CHECK(f.at("found").as_string() == "holds for train.epochs <= 3, fails above");
    REQUIRE(f.at("regimes").size() == 3);
    const char* expected[] = {"HOLDS", "HOLDS", "FAILS"};
    for (std::size_t k = 0; k < 3; ++k) {
      const ablate::Json& at = f.at("regimes").as_array()[k];
      CHECK(at.at("verdict").as_string() == expected[k]);
      CHECK(at.at("figures").at("fast.test_accuracy").at("n").as_number() == 5);
      const ablate::Json& c = at.at("comparisons").at("fast.test_accuracy - slow.test_accuracy");
      CHECK((c.at("ci95").as_array()[0].as_number() > 0.05) == (k < 2));
    }
  }
  CHECK(findings.as_array()[0].at("claimed").as_string() ==
        "holds for train.epochs <= 3, fails above");
  CHECK(findings.as_array()[1].at("claimed").as_string() == "holds for every train.epochs tried");
  CHECK(findings.as_array()[0].at("regime_key").as_string() == "train.epochs");
  // The manifest keeps the regime: the study reads back the same (status, report, resume).
  const auto reopened = ablate::study::open_study(study).study;
  REQUIRE(reopened.regime);
  CHECK(reopened.regime->values == std::vector<std::string>{"1", "3", "30"});
  CHECK(reopened.expectations[0].holds_for == std::vector<std::string>{"1", "3"});
  CHECK(reopened.trials.size() == 30);
}
