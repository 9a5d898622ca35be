// What a study's trials amount to: mean ± std, results.csv, the group table, and a study
// directory written and read back (hand-made Study values; the planner is tested elsewhere).
#include <catch2/catch.hpp>
#include <cmath>

#include "study/results.hpp"
#include "study/study_dir.hpp"
#include "support.hpp"

using namespace ablate;
using namespace ablate::study;

namespace {

Trial make_trial(const std::string& id, const std::string& group, std::int64_t seed,
                 std::vector<Override> settings) {
  Trial t;
  t.id = id;
  t.group = group;
  t.seed = seed;
  t.settings = std::move(settings);
  t.config = "[experiment]\nname = \"unit\"\nseed = " + std::to_string(seed) + "\n";
  return t;
}

TrialOutcome outcome(const Trial& trial, const std::string& status, Json summary) {
  TrialStatus s;
  s.status = status;
  return {&trial, s, std::move(summary)};
}

/// A sweep named `name` with `trials`, its directory chosen under tmp/sweeps (not yet written).
StudyDir planned_sweep(const test::TempDir& tmp, const std::string& name,
                       std::vector<Trial> trials) {
  StudyDir dir;
  dir.study.kind = StudyKind::sweep;
  dir.study.name = name;
  dir.study.file = tmp / "missing.toml";
  dir.study.trials = std::move(trials);
  dir.path = new_study_path(tmp / "sweeps", dir.study);
  return dir;
}

Json summary(double test_accuracy, double train_loss) {
  Json j = Json::object();
  j["status"] = "ok";
  j["test_accuracy"] = test_accuracy;
  j["train_loss"] = train_loss;
  j["seed"] = 1;
  return j;
}

}  // namespace

TEST_CASE("mean_std is the mean and the sample standard deviation", "[study][results]") {
  const MeanStd three = mean_std({0.8, 0.9, 1.0});
  CHECK(three.n == 3);
  CHECK(three.mean == Approx(0.9));
  CHECK(three.std == Approx(0.1));  // sqrt((0.01 + 0 + 0.01) / 2)
  CHECK(three.str() == "0.9000 ± 0.1000");

  const MeanStd two = mean_std({2.0, 4.0});
  CHECK(two.std == Approx(std::sqrt(2.0)));  // n - 1, not n (which would give 1)

  const MeanStd one = mean_std({0.5});
  CHECK(one.mean == 0.5);
  CHECK(std::isnan(one.std));
  CHECK(one.str() == "0.5000");

  const MeanStd none = mean_std({});
  CHECK(none.n == 0);
  CHECK(std::isnan(none.mean));
  CHECK(none.str() == "-");
  CHECK(mean_std({36864.0, 36865.0}).str() == "36864 ± 1");  // sizes without decimals
}

TEST_CASE("CSV fields are quoted only when they need it, quotes doubled", "[study][results]") {
  CHECK(csv_field("plain") == "plain");
  CHECK(csv_field("") == "");
  CHECK(csv_field("[64, 32]") == "\"[64, 32]\"");
  CHECK(csv_field("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(csv_field("two\nlines") == "\"two\nlines\"");
  CHECK(csv_field(" padded") == "\" padded\"");
}

TEST_CASE("results.csv has a row per trial, its parameters, status and every figure",
          "[study][results]") {
  Study study;
  study.kind = StudyKind::sweep;
  study.parameters = {"train.lr", "topology.hidden"};
  study.trials = {make_trial("p000-s1", "train.lr=0.1 topology.hidden=[64, 32]", 1,
                             {{"train.lr", "0.1"}, {"topology.hidden", "[64, 32]"}}),
                  make_trial("p000-s2", "train.lr=0.1 topology.hidden=[64, 32]", 2,
                             {{"train.lr", "0.1"}, {"topology.hidden", "[64, 32]"}}),
                  make_trial("p001-s1", "train.lr=0.5", 1, {{"train.lr", "0.5"}})};
  Json extra = summary(0.25, 2.5);
  extra["forgetting"] = 0.125;
  const std::vector<TrialOutcome> outcomes{outcome(study.trials[0], "ok", summary(0.5, 1.5)),
                                           outcome(study.trials[1], "ok", extra),
                                           outcome(study.trials[2], "failed", Json())};
  const std::string csv = results_csv(study, outcomes);
  CHECK(csv ==
        "id,group,seed,train.lr,topology.hidden,status,forgetting,test_accuracy,train_loss\n"
        "p000-s1,\"train.lr=0.1 topology.hidden=[64, 32]\",1,0.1,\"[64, 32]\",ok,,0.5,1.5\n"
        "p000-s2,\"train.lr=0.1 topology.hidden=[64, 32]\",2,0.1,\"[64, 32]\",ok,0.125,0.25,2.5\n"
        "p001-s1,train.lr=0.5,1,0.5,,failed,,,\n");
}

TEST_CASE("results.csv writes a setting's value, not its TOML spelling", "[study][results]") {
  Study study;
  study.kind = StudyKind::sweep;
  study.parameters = {"orderer.plugin", "topology.hidden", "dataset.note"};
  study.trials = {make_trial("a-s1", "a", 1,
                             {{"orderer.plugin", "\"gold_zone\""},
                              {"topology.hidden", "[\"x\", 2]"},
                              {"dataset.note", "'say \"hi\"'"}})};
  const std::string csv = results_csv(study, {outcome(study.trials[0], "ok", summary(0.5, 1.5))});
  CHECK(csv ==
        "id,group,seed,orderer.plugin,topology.hidden,dataset.note,status,test_accuracy,train_loss\n"
        "a-s1,a,1,gold_zone,\"[\"\"x\"\", 2]\",\"say \"\"hi\"\"\",ok,0.5,1.5\n");
}

TEST_CASE("groups average their ok seeds, the table aligns mean ± std per group",
          "[study][results]") {
  Study study;
  study.trials = {make_trial("a-s1", "a", 1, {}), make_trial("a-s2", "a", 2, {}),
                  make_trial("a-s3", "a", 3, {}), make_trial("b-s1", "b", 1, {})};
  const std::vector<TrialOutcome> outcomes{
      outcome(study.trials[0], "ok", summary(0.8, 1.0)),
      outcome(study.trials[1], "ok", summary(1.0, 3.0)),
      outcome(study.trials[2], "killed", summary(0.0, 9.0)),  // not ok: left out of the means
      outcome(study.trials[3], "ok", summary(0.7, 2.0))};
  const std::vector<GroupSummary> groups = summarize_groups(outcomes);
  REQUIRE(groups.size() == 2);
  CHECK(groups[0].group == "a");
  CHECK(groups[0].ok == 2);
  CHECK(groups[0].total == 3);
  CHECK(groups[0].figures.at("test_accuracy").mean == Approx(0.9));
  CHECK(groups[0].figures.at("test_accuracy").std == Approx(std::sqrt(0.02)));
  CHECK(groups[0].figures.count("seed") == 0);

  const auto figures = main_figures(figures_present(groups));
  CHECK(figures == std::vector<std::string>{"test_accuracy", "train_loss"});
  const std::string table = groups_table(groups, figures);
  CHECK(table ==
        "group  ok   test_accuracy    train_loss\n"
        "-----  ---  ---------------  ---------------\n"
        "a      2/3  0.9000 ± 0.1414  2.0000 ± 1.4142\n"
        "b      1/1  0.7000           2.0000\n");  // no trailing spaces
}

TEST_CASE("a study directory holds the plan and reads back, statuses round-trip",
          "[study][study_dir]") {
  test::TempDir tmp("ablate-study-dir");
  StudyDir dir =
      planned_sweep(tmp, "unit",
                    {make_trial("p000-s1", "train.lr=0.1", 1, {{"train.lr", "0.1"}}),
                     make_trial("p001-s1", "train.lr=0.2", 1, {{"train.lr", "0.2"}})});
  dir.study.parameters = {"train.lr"};
  CHECK(dir.path.parent_path() == tmp / "sweeps" / "unit");
  write_study(dir, {"ablate", "sweep", "x.toml"});
  CHECK_THROWS_AS(write_study(dir, {}), Error);                  // the plan is written once
  CHECK(new_study_path(tmp / "sweeps", dir.study) != dir.path);  // never reused

  CHECK(is_study_dir(dir.path));
  const StudyDir back = open_study(dir.path);
  CHECK(back.backend == "local");
  REQUIRE(back.study.trials.size() == 2);
  CHECK(back.study.trials[1].id == "p001-s1");
  CHECK(back.study.trials[1].settings.at(0).path == "train.lr");
  CHECK(back.study.trials[1].settings.at(0).value == "0.2");
  CHECK(back.study.trials[1].config == dir.study.trials[1].config);
  CHECK(back.study.parameters == dir.study.parameters);

  CHECK(read_status(dir.path, "p000-s1").status == "pending");
  TrialStatus killed;
  killed.status = "killed";
  killed.signal = "SIGKILL";
  killed.reason = "killed by SIGKILL";
  killed.run_dir = "trials/p000-s1/unit/x";
  killed.seconds = 1.5;
  write_status(dir.path, "p000-s1", killed);
  const TrialStatus read = read_status(dir.path, "p000-s1");
  CHECK(read.status == "killed");
  CHECK(read.signal == "SIGKILL");
  CHECK(read.run_dir == killed.run_dir);
  CHECK(read.seconds == 1.5);
  CHECK_THROWS_AS(find_trial(back, "nope"), Error);
  CHECK_THROWS_AS(open_study(tmp.path()), Error);
}

TEST_CASE("a study resumed on another backend records it, for later --status and --resume",
          "[study][study_dir]") {
  test::TempDir tmp("ablate-study-backend");
  StudyDir dir = planned_sweep(
      tmp, "moved", {make_trial("p000-s1", "train.lr=0.1", 1, {{"train.lr", "0.1"}})});
  write_study(dir, {"ablate", "sweep", "x.toml"});
  REQUIRE(open_study(dir.path).backend == "local");

  dir.backend = "slurm";
  dir.slurm.partition = "debug";
  dir.slurm.time = "00:10:00";
  dir.slurm.cpus_per_task = 2;
  record_backend(dir);
  const StudyDir moved = open_study(dir.path);
  CHECK(moved.backend == "slurm");
  CHECK(moved.slurm.partition == "debug");
  CHECK(moved.slurm.time == "00:10:00");
  CHECK(moved.slurm.cpus_per_task == 2);
  CHECK(moved.study.trials.size() == 1);  // the plan itself is untouched

  dir.backend = "local";
  record_backend(dir);
  CHECK(open_study(dir.path).backend == "local");
}

TEST_CASE("a status.json whose exit code or pid no int holds is an error, not undefined",
          "[study][status][fuzz]") {
  // Found by tests/fuzz/fuzz_study: exit_code 8.9e50 was cast to int (UBSan: outside the range
  // of representable values). The sanitize preset runs this.
  const auto parse = [](const std::string& text) { return TrialStatus::from_json(Json::parse(text)); };
  CHECK(parse(R"({"status":"failed","exit_code":3,"pid":12})").exit_code == 3);
  CHECK_THROWS_WITH(parse(R"({"status":"failed","exit_code":8.88889e50})"),
                    Catch::Contains("exit_code is 8.88889e+50") && Catch::Contains("not an integer"));
  CHECK_THROWS_WITH(parse(R"({"status":"running","pid":-1e300})"), Catch::Contains("pid is"));
  CHECK_THROWS_WITH(parse(R"({"status":"running","pid":1.5})"), Catch::Contains("pid is 1.5"));
}

TEST_CASE("where a finding holds along a regime, in words", "[study][regime]") {
  using ablate::study::Regime;
  using ablate::study::where_it_holds;
  const Regime n{"split.n_train", {"250", "1000", "4000"}, {}};
  CHECK(where_it_holds(n, {true, true, false}) == "holds for split.n_train <= 1000, fails above");
  CHECK(where_it_holds(n, {false, true, true}) == "holds for split.n_train >= 1000, fails below");
  CHECK(where_it_holds(n, {true, false, true}) ==
        "holds for split.n_train in {250, 4000}, fails for {1000}");
  CHECK(where_it_holds(n, {true, true, true}) == "holds for every split.n_train tried");
  CHECK(where_it_holds(n, {false, false, false}) == "holds for no split.n_train tried");
  const Regime names{"topology.plugin", {"\"mlp\"", "\"router\""}, {}};  // no order: listed
  CHECK(where_it_holds(names, {true, false}) ==
        "holds for topology.plugin in {\"mlp\"}, fails for {\"router\"}");
}
