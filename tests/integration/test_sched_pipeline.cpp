// Acceptance of issue 4 on real data (sklearn's digits): the orderers' stage sequences, gold-zone
// picks, capacities following the law, the sum cache across kill and resume, a damaged snapshot
// refused, alerts in metrics, and `ablate graph`. Trainer runs happen in-process (fast); the
// kill -9, damage and graph cases run the real binary.
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <thread>

#include "ablate/topology.hpp"
#include "config/experiment.hpp"
#include "runs/safetensors.hpp"
#include "stats/capacity_fit.hpp"
#include "stats/sum_cache_io.hpp"
#include "state_support.hpp"
#include "support.hpp"
#include "train/trainer.hpp"
#include "unit/test_research_support.hpp"
#include "util/atomic_file.hpp"

using namespace ablate;
using namespace ablate::test;
namespace fs = std::filesystem;

namespace {

/// Digits, 400 training samples, an MLP 64-32-16-10 (`mlp`, or `capacity_mlp` from
/// tests/plugins) trained one epoch per stage. Orderer parameters come as overrides.
std::string experiment_text(const std::string& orderer, const std::string& topology = "mlp",
                            const std::string& extra = "") {
  return R"(
[experiment]
name = "sched"
seed = 1
plugin_paths = [")" + std::string(ABLATE_TEST_PLUGIN_DIR) + R"(/capacity_mlp", ")" +
         std::string(ABLATE_TEST_PLUGIN_DIR) + R"(/blind_halving"]

[dataset]
plugin = "digits"

[split]
n_train = 400

[topology]
plugin = ")" + topology + R"("
hidden = [32, 16]

[orderer]
plugin = ")" + orderer + "\"\n" + (orderer == "all" ? "" : "epochs_per_stage = 1\n") + R"(
[train]
epochs = 1
batch_size = 32
lr = 0.05
threads = 1
checkpoint_every = 1
)" + extra;
}

struct Interrupted {};  // thrown from the checkpoint sink: a kill at a checkpoint

struct Trained {
  std::vector<Json> rows;
  std::vector<StateStore> checkpoints;
  Outcome outcome;
};

/// Trains in this process, optionally from `resume`, stopping after `stop_after` checkpoints.
Trained train(const std::string& toml, const std::vector<Override>& set = {},
              const StateStore* resume = nullptr, int stop_after = -1) {
  TempDir tmp("ablate-sched");
  write_text(tmp / "sched.toml", toml);
  Registry registry;
  const Experiment experiment = load_experiment(tmp / "sched.toml", set, registry);
  Trainer trainer(experiment, registry);
  Trained out;
  try {
    out.outcome = trainer.run([&](const Json& row) { out.rows.push_back(row); },
                              [&](const StateStore& state) {
                                out.checkpoints.push_back(state);
                                if (static_cast<int>(out.checkpoints.size()) == stop_after)
                                  throw Interrupted{};
                              },
                              resume);
  } catch (const Interrupted&) {
  }
  return out;
}

std::vector<Json> rows_of(const std::vector<Json>& rows, const std::string& kind) {
  std::vector<Json> out;
  for (const auto& r : rows)
    if (r.at("kind").as_string() == kind) out.push_back(r);
  return out;
}

std::vector<std::string> units_of(const Json& stage_row) {
  std::vector<std::string> out;
  for (const auto& u : stage_row.at("units").as_array()) out.push_back(u.as_string());
  return out;
}

std::vector<std::string> layer_units(int layer, int size) {
  std::vector<std::string> out;
  for (int i = 0; i < size; ++i) out.push_back(std::to_string(layer) + "." + std::to_string(i));
  return out;
}

SumCache final_sums(const Trained& run) {
  REQUIRE_FALSE(run.checkpoints.empty());
  return decode_sums(run.checkpoints.back().text("sums/snapshot"), "test").sums;
}


}  // namespace

TEST_CASE("backward: the output units train first in every one of 10 seeds, then the layers "
          "strictly backward", "[sched][acceptance]") {
  for (int seed = 1; seed <= 10; ++seed) {
    INFO("seed " << seed);
    const Trained run = train(experiment_text("backward"), {{"experiment.seed", std::to_string(seed)}});
    REQUIRE(run.outcome.status == "ok");
    const auto stages = rows_of(run.rows, "stage");
    REQUIRE(stages.size() == 3);
    CHECK(stages[0].at("label").as_string() == "phase0");
    CHECK(stages[0].at("layer").as_integer() == 2);
    CHECK(units_of(stages[0]) == layer_units(2, 10));  // the final units, alone
    CHECK(stages[1].at("layer").as_integer() == 1);
    CHECK(units_of(stages[1]) == layer_units(1, 16));
    CHECK(stages[2].at("layer").as_integer() == 0);
    CHECK(rows_of(run.rows, "epoch").front().at("stage").as_integer() == 0);
  }
}

TEST_CASE("backward: phase 0 changes the output layer's parameters and nothing else, each later "
          "stage only its own layer", "[sched][acceptance]") {
  // With momentum: a frozen unit's parameters are skipped by the optimizer, so the velocity it
  // gathered while it trained does not move it either.
  const Trained run = train(experiment_text("backward"), {{"train.momentum", "0.9"}});
  REQUIRE(run.checkpoints.size() >= 3);
  // The initial parameters: the same topology built from the same stream as the trainer's.
  // mlp's declared defaults (as the experiment's) with the experiment's hidden layers.
  const auto topology = make_plugin<Topology>(Kind::topology, "mlp",
                                              {{"hidden", std::vector<std::int64_t>{32, 16}}});
  DataShape shape;
  shape.features = 64;
  shape.classes = 10;
  Rng init = Rng::stream(1, "init");
  const auto model = topology->build({shape, 1}, init);
  auto* gradient = dynamic_cast<GradientModel*>(model.get());
  REQUIRE(gradient);
  auto changed = [](const Matrix& a, const Matrix& b) { return (a - b).cwiseAbs().maxCoeff() > 0; };
  // One epoch per stage and a checkpoint per epoch: checkpoint k holds the end of stage k.
  for (Parameter* p : gradient->parameters()) {
    INFO(p->name);
    Matrix before = p->value;
    for (int stage = 0; stage < 3; ++stage) {
      const std::string trained = "layer" + std::to_string(3 - stage) + ".";
      const Matrix after = run.checkpoints[static_cast<std::size_t>(stage)].matrix("param/" + p->name);
      CHECK(changed(after, before) == (p->name.rfind(trained, 0) == 0));
      before = after;
    }
  }
}

TEST_CASE("forward: the layers strictly forward", "[sched][acceptance]") {
  for (int seed = 1; seed <= 3; ++seed) {
    const Trained run = train(experiment_text("forward"),
                              {{"experiment.seed", std::to_string(seed)}, {"orderer.rounds", "2"}});
    std::vector<std::int64_t> layers;
    for (const auto& s : rows_of(run.rows, "stage")) layers.push_back(s.at("layer").as_integer());
    CHECK(layers == std::vector<std::int64_t>{0, 1, 2, 0, 1, 2});
    CHECK(rows_of(run.rows, "stage")[0].at("label").as_string() == "layer layer1");
  }
}

TEST_CASE("gold_zone picks gold-zone units whenever the layer has some", "[sched][acceptance]") {
  const Trained run =
      train(experiment_text("gold_zone"), {{"orderer.rounds", "6"}, {"orderer.units", "2"}});
  REQUIRE(run.outcome.status == "ok");
  const SumCache sums = final_sums(run);
  const Zones zones;
  int stages_with_gold = 0, gold_picks = 0;
  for (const Json& row : rows_of(run.rows, "stage")) {
    const auto stage = static_cast<std::int32_t>(row.at("stage").as_integer());
    const auto layer = static_cast<int>(row.at("layer").as_integer());
    if (row.at("label").as_string() == "phase0") continue;
    // The layer's gold units as the orderer saw them: the records of the stage before.
    std::vector<std::string> gold;
    for (const auto& [unit, history] : sums.units())
      if (unit.layer == layer)
        for (const SumRecord& r : history)
          if (r.stage == stage - 1 && zones.gold(r.s, r.n))
            gold.push_back(std::to_string(unit.layer) + "." + std::to_string(unit.index));
    const auto picked = units_of(row);
    REQUIRE(picked.size() == 2);
    std::size_t picked_gold = 0;
    for (const auto& u : picked) picked_gold += std::count(gold.begin(), gold.end(), u);
    INFO("stage " << stage << " " << row.at("label").as_string());
    CHECK(picked_gold == std::min<std::size_t>(2, gold.size()));
    stages_with_gold += !gold.empty();
    gold_picks += static_cast<int>(picked_gold);
  }
  CHECK(stages_with_gold >= 10);  // the check above did bite
  CHECK(gold_picks >= 20);
}

TEST_CASE("capacities follow the margins across units (R^2 > 0.7) under every law, and a law "
          "blind to the sums scores near 0", "[sched][acceptance]") {
  {
    const Trained blind = train(
        experiment_text("backward", "capacity_mlp", "[capacity]\nplugin = \"blind_halving\"\n"),
        {{"orderer.rounds", "4"}});
    REQUIRE(blind.outcome.status == "ok");
    const LawFit fit = capacity_law_fit(final_sums(blind));
    WARN("blind_halving: R^2 " << fit.r_squared << " over " << fit.points << " pairs");
    CHECK(fit.r_squared < 0.2);
    CHECK(blind.outcome.summary.at("capacity_r2").as_number() == fit.r_squared);
  }
  for (const std::string law : {"instant", "moving_average", "exponential"}) {
    const Trained run =
        train(experiment_text("backward", "capacity_mlp", "[capacity]\nplugin = \"" + law + "\"\n"),
              {{"orderer.rounds", "4"}});
    REQUIRE(run.outcome.status == "ok");
    const LawFit fit = capacity_law_fit(final_sums(run));
    WARN(law << ": R^2 " << fit.r_squared << " over " << fit.points << " (S, next capacity) pairs");
    CHECK(fit.points >= 11u * 58u);
    CHECK(fit.r_squared > 0.7);
    // Capacities are reported per layer in the stage rows.
    const auto last = rows_of(run.rows, "stage").back();
    CHECK(last.at("layers").at(0).at("capacity").at("max").as_number() >= 1.0);
  }
}

TEST_CASE("the sum cache survives an interruption at any checkpoint with identical contents",
          "[sched][acceptance][resume]") {
  const std::string toml =
      experiment_text("gold_zone", "capacity_mlp", "[capacity]\nplugin = \"exponential\"\n");
  const std::vector<Override> set = {{"orderer.rounds", "2"}, {"orderer.units", "3"}};
  const Trained whole = train(toml, set);
  REQUIRE(whole.outcome.status == "ok");
  const std::string expected = sums_without_clock(whole.checkpoints.back().text("sums/snapshot"));
  for (int stop : {1, 2, 4}) {
    INFO("interrupted after checkpoint " << stop);
    const Trained first = train(toml, set, nullptr, stop);
    REQUIRE(static_cast<int>(first.checkpoints.size()) == stop);
    const Trained rest = train(toml, set, &first.checkpoints.back());
    REQUIRE(rest.outcome.status == "ok");
    CHECK(sums_without_clock(rest.checkpoints.back().text("sums/snapshot")) == expected);
  }
}

TEST_CASE("kill -9 and resume leave the sum cache of an uninterrupted run, a flipped byte in it "
          "is refused", "[sched][acceptance][resume]") {
  TempDir tmp("ablate-sched-kill");
  write_text(tmp / "sched.toml",
             experiment_text("backward", "capacity_mlp", "[capacity]\nplugin = \"instant\"\n"));
  const std::string args = (tmp / "sched.toml").string() + " --set orderer.rounds=20 --out ";
  const auto reference = test::run_ablate("run " + args + (tmp / "ref").string());
  INFO(reference.output);
  REQUIRE(reference.exit_code == 0);
  const fs::path reference_dir = run_dir_of(reference);
  auto sums_in = [](const fs::path& dir) {
    return sums_without_clock(
        read_safetensors(dir / "checkpoints/last.safetensors").text("sums/snapshot"));
  };
  const std::string expected = sums_in(reference_dir);

  const fs::path out = tmp / "killed";
  const fs::path dir =
      kill_run_when({(tmp / "sched.toml").string(), "--set", "orderer.rounds=20", "--out",
                     out.string()},
                    out, "sched",
                    [](const fs::path& run) {  // kill once some stages are done
                      return read_text(run / "metrics.jsonl").find("\"kind\":\"stage\"") !=
                             std::string::npos;
                    },
                    std::chrono::seconds(60), tmp / "killed.log")
          .dir;
  REQUIRE(!dir.empty());
  REQUIRE_FALSE(fs::exists(dir / "summary.json"));  // killed mid-run (60 stages take ~1 s)
  const auto resumed = test::run_ablate("resume " + dir.string());
  INFO(resumed.output);
  REQUIRE(resumed.exit_code == 0);
  CHECK(sums_in(dir) == expected);

  // One flipped byte in the snapshot inside the checkpoint: resume refuses it, saying why.
  fs::remove(reference_dir / "summary.json");
  std::string checkpoint = read_file(reference_dir / "checkpoints/last.safetensors");
  const auto at = checkpoint.find("ABLATE-SUMCACHE\n");
  REQUIRE(at != std::string::npos);
  checkpoint[at + 200] ^= 0x04;
  write_atomic(reference_dir / "checkpoints/last.safetensors", checkpoint);
  const auto refused = test::run_ablate("resume " + reference_dir.string());
  CHECK(refused.exit_code == 1);
  CHECK_THAT(refused.output, Catch::Contains("checksum mismatch") &&
                                 Catch::Contains("refusing to use this sum-cache snapshot"));
  CHECK_THAT(read_text(reference_dir / "summary.json"), Catch::Contains("\"status\":\"failed\""));
}

TEST_CASE("alerts reach metrics.jsonl: memorization, stagnation, stuck in one layer",
          "[sched][acceptance][alerts]") {
  // Plain training long enough to pass 95% train accuracy on digits.
  // Checked every epoch: the alert comes at the epoch that crossed, not at the stage's end.
  const Trained plain = train(experiment_text("all"), {{"train.epochs", "15"}});
  const auto alerts = rows_of(plain.rows, "alert");
  REQUIRE(alerts.size() == 1);
  CHECK(alerts[0].at("alert").as_string() == "memorization");
  CHECK_THAT(alerts[0].at("message").as_string(), Catch::Contains("memorization risk"));
  std::int64_t crossed = 0;
  for (const Json& row : rows_of(plain.rows, "epoch"))
    if (!crossed && row.at("train_accuracy").as_number() > 0.95) crossed = row.at("epoch").as_integer();
  CHECK(crossed > 0);
  CHECK(crossed < 15);
  CHECK(alerts[0].at("epoch").as_integer() == crossed);
  // The threshold is a [pipeline] key.
  const Trained lenient = train(experiment_text("all"), {{"train.epochs", "15"},
                                                         {"pipeline.memorization_accuracy", "0.999"}});
  CHECK(rows_of(lenient.rows, "alert").empty());

  // A learning rate too small to move anything: the output layer is stuck, margins stagnate.
  const Trained stuck = train(experiment_text("backward"), {{"orderer.stages_per_layer", "5"},
                                                            {"orderer.patience", "0"},
                                                            {"train.lr", "1e-12"}});
  std::vector<std::string> kinds;
  for (const auto& a : rows_of(stuck.rows, "alert")) kinds.push_back(a.at("alert").as_string());
  CHECK(std::count(kinds.begin(), kinds.end(), "stuck_in_layer") >= 1);
  CHECK(std::count(kinds.begin(), kinds.end(), "margin_stagnation") == 1);
}

TEST_CASE("a hashtron run checkpoints after every unit at unit_checkpoint_seconds = 0, else "
          "spaced in time, with the same figures", "[sched][hashtron]") {
  // 20 hidden and 5 output hashtrons on sqrt_bits (10 bits), forward, 2 rounds: a stage per
  // layer and round, each one epoch of one fit per unit.
  const std::string toml = R"(
[experiment]
name = "unit_saves"
seed = 3

[dataset]
plugin = "sqrt_bits"
bits = 10

[topology]
plugin = "hashtron_layers"
layers = [20, 0]
taps = 6

[orderer]
plugin = "forward"
rounds = 2

[train]
epochs = 1
threads = 1
checkpoint_every = 1
)";
  const Trained each = train(toml, {{"train.unit_checkpoint_seconds", "0"}});
  const Trained spaced = train(toml, {{"train.unit_checkpoint_seconds", "1e9"}});
  REQUIRE(each.outcome.status == "ok");
  REQUIRE(spaced.outcome.status == "ok");
  // Inside each stage's epoch a save follows every unit but the last (the trainer saves there).
  std::size_t inside = 0;
  for (const auto& stage : rows_of(each.rows, "stage")) inside += units_of(stage).size() - 1;
  REQUIRE(inside > 0);
  CHECK(each.checkpoints.size() == spaced.checkpoints.size() + inside);
  CHECK(each.rows.size() == spaced.rows.size());
  for (std::size_t i = 0; i < std::min(each.rows.size(), spaced.rows.size()); ++i)
    CHECK(without_clock(each.rows[i].dump()) == without_clock(spaced.rows[i].dump()));
}

TEST_CASE("ablate graph writes the unit graph of an experiment as DOT and GraphML", "[sched][graph]") {
  TempDir tmp("ablate-sched-graph");
  write_text(tmp / "sched.toml", experiment_text("backward"));
  const auto r = test::run_ablate("graph " + (tmp / "sched.toml").string() + " --out " + (tmp / "g").string() +
                        " --input-groups 8");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  // 8 input groups + 32 + 16 + 10 units; 8*32 + 32*16 + 16*10 edges.
  CHECK_THAT(r.output, Catch::Contains("66 vertices, 928 edges; layers forward: layer1 -> layer2 -> layer3"));
  CHECK_THAT(read_text(tmp / "g.dot"), Catch::StartsWith("digraph G {"));
  CHECK_THAT(read_text(tmp / "g.graphml"), Catch::Contains("<graphml"));
  CHECK(test::run_ablate("graph " + (tmp / "sched.toml").string() + " --input-groups -1").exit_code == 2);
  CHECK(test::run_ablate("graph " + (tmp / "missing.toml").string()).exit_code == 2);

  // The quickstart's MLP 784-256-256-10 on Fashion-MNIST, with its pixels in 16 groups.
  const auto quick = test::run_ablate("graph " + std::string(ABLATE_SOURCE_DIR) +
                            "/experiments/quickstart.toml --out " + (tmp / "q").string());
  INFO(quick.output);
  REQUIRE(quick.exit_code == 0);
  CHECK_THAT(quick.output, Catch::Contains("538 vertices, 72192 edges"));
}

TEST_CASE("[pipeline] sets the zones the stage rows count and the records the cache keeps, and "
          "empty gold zone is refused before training", "[sched][pipeline]") {
  const Trained run = train(experiment_text("backward"), {{"pipeline.noise_factor", "4"},
                                                          {"pipeline.collapse_fraction", "0.5"},
                                                          {"pipeline.sums_kept", "2"},
                                                          {"orderer.rounds", "3"}});
  REQUIRE(run.outcome.status == "ok");
  const SumCache sums = final_sums(run);
  CHECK(sums.keep() == 2);
  for (const auto& [unit, history] : sums.units()) CHECK(history.size() <= 2);
  // The last stage row's zone counts are the cache's under these zones, not the defaults.
  const Zones zones{4.0, 0.5};
  const Json last = rows_of(run.rows, "stage").back();
  int differs_from_default = 0;
  for (int layer = 0; layer < 3; ++layer) {
    int gold = 0, default_gold = 0;
    for (const auto& [unit, history] : sums.units())
      if (unit.layer == layer) {
        gold += zones.gold(history.back().s, history.back().n);
        default_gold += Zones{}.gold(history.back().s, history.back().n);
      }
    CHECK(last.at("layers").at(layer).at("gold").as_integer() == gold);
    differs_from_default += gold != default_gold;
  }
  CHECK(differs_from_default > 0);  // the setting changed what was counted

  TempDir tmp("ablate-pipeline-zones");
  write_text(tmp / "sched.toml", experiment_text("backward"));
  Registry registry;
  const Experiment empty = load_experiment(tmp / "sched.toml", {{"pipeline.noise_factor", "20"}}, registry);
  CHECK_THROWS_WITH(Trainer(empty, registry),
                    Catch::Contains("no gold zone for N = 400") &&
                        Catch::Contains("pipeline.noise_factor"));
}

TEST_CASE("stages record when they began and how long they took, and every row carries the clock",
          "[sched][pipeline]") {
  const Trained run = train(experiment_text("backward", "mlp"), {{"orderer.rounds", "2"},
                                                                {"orderer.epochs_per_stage", "3"}});
  REQUIRE(run.outcome.status == "ok");
  double clock = 0;
  for (const Json& row : run.rows) {
    REQUIRE(row.find("elapsed_s") != nullptr);
    CHECK(row.at("elapsed_s").as_number() >= clock);
    clock = row.at("elapsed_s").as_number();
  }
  const SumCache sums = final_sums(run);
  const auto& stages = sums.stages();
  REQUIRE(stages.size() == 6);
  double total = 0, began = -1;
  for (const StageRecord& stage : stages) {
    CHECK(stage.timestamp >= began);
    CHECK(stage.duration > 0);
    began = stage.timestamp + stage.duration;
    total += stage.duration;
  }
  CHECK(total <= clock + 1e-3);
  CHECK(rows_of(run.rows, "stage").front().at("duration_s").as_number() ==
        Approx(stages.front().duration).margin(1e-3));
}

TEST_CASE("a stage without progress for epoch_patience epochs ends early and the walk skips "
          "forward, at one stage per visit", "[sched][pipeline]") {
  // A tolerance no epoch can beat: each stage stops after its first epoch and 2 without progress.
  const Trained run = train(experiment_text("backward"), {{"orderer.epochs_per_stage", "20"},
                                                          {"orderer.epoch_patience", "2"},
                                                          {"orderer.tolerance", "0.9"}});
  REQUIRE(run.outcome.status == "ok");
  const auto stages = rows_of(run.rows, "stage");
  REQUIRE(stages.size() == 3);
  for (const Json& stage : stages)
    CHECK(stage.at("ended_early").as_string() == "2 epochs without progress");
  CHECK(rows_of(run.rows, "epoch").size() == 9);
  CHECK_THAT(stages[1].at("label").as_string(),
             Catch::Contains("skipped forward from layer") &&
                 Catch::Contains("after 2 epochs without progress"));
  // Off: every stage trains its 20 epochs.
  const Trained patient = train(experiment_text("backward"), {{"orderer.epochs_per_stage", "20"},
                                                              {"orderer.epoch_patience", "0"},
                                                              {"orderer.tolerance", "0.9"}});
  CHECK(rows_of(patient.rows, "epoch").size() == 60);
  CHECK(rows_of(patient.rows, "stage").front().find("ended_early") == nullptr);

  // Resumed from any checkpoint, the early ends fall where they did.
  for (int stop : {2, 4}) {
    const Trained first = train(experiment_text("backward"), {{"orderer.epochs_per_stage", "20"},
                                                              {"orderer.epoch_patience", "2"},
                                                              {"orderer.tolerance", "0.9"}},
                                nullptr, stop);
    const Trained rest = train(experiment_text("backward"), {{"orderer.epochs_per_stage", "20"},
                                                             {"orderer.epoch_patience", "2"},
                                                             {"orderer.tolerance", "0.9"}},
                               &first.checkpoints.back());
    INFO("resumed after checkpoint " << stop);
    CHECK(rest.outcome.summary.at("epochs").as_integer() == 9);
  }
}

TEST_CASE("val_loss every epoch, the best epoch in the summary, and early stopping",
          "[sched][pipeline]") {
  const Trained run = train(experiment_text("all"), {{"train.epochs", "12"}});
  REQUIRE(run.outcome.status == "ok");
  double best = 1e9;
  std::int64_t best_epoch = 0;
  for (const Json& row : rows_of(run.rows, "epoch")) {
    REQUIRE(row.find("val_loss") != nullptr);
    if (row.at("val_loss").as_number() < best) {
      best = row.at("val_loss").as_number();
      best_epoch = row.at("epoch").as_integer();
    }
  }
  const Json& summary = run.outcome.summary;
  CHECK(summary.at("best_metric").as_string() == "val_loss");
  CHECK(summary.at("best_epoch").as_integer() == best_epoch);
  CHECK(summary.at("best_val_loss").as_number() == best);
  CHECK(summary.find("stopped_early") == nullptr);

  // Early stopping on val_accuracy: no epoch can beat the first by 2 points of 1, so the task
  // stops after 3 more epochs.
  const Trained stopped = train(experiment_text("all"), {{"train.epochs", "12"},
                                                         {"train.best_metric", "val_accuracy"},
                                                         {"train.early_stop", "3"},
                                                         {"train.early_stop_delta", "2"}});
  REQUIRE(stopped.outcome.status == "ok");
  CHECK(stopped.outcome.summary.at("epochs").as_integer() == 4);
  CHECK(stopped.outcome.summary.at("best_epoch").as_integer() == 1);
  CHECK(stopped.outcome.summary.at("stopped_early").as_bool());
  CHECK_THAT(rows_of(stopped.rows, "stage").back().at("ended_early").as_string(),
             Catch::StartsWith("early stop: val_accuracy has not improved for 3 epochs"));
  CHECK(rows_of(stopped.rows, "task").size() == 1);  // the task still ends, with its test figures
}

TEST_CASE("a run starts from an earlier run's sum cache: stale records, capacities from the law, "
          "and another model's cache refused", "[sched][pipeline]") {
  const std::string toml = experiment_text("backward", "capacity_mlp",
                                           "[capacity]\nplugin = \"moving_average\"\n");
  const Trained earlier = train(toml, {{"orderer.rounds", "2"}});
  REQUIRE(earlier.outcome.status == "ok");
  TempDir tmp("ablate-sums-from");
  write_text(tmp / "earlier.bin", earlier.checkpoints.back().text("sums/snapshot"));
  const SumCache before = final_sums(earlier);

  const Trained later = train(toml, {{"pipeline.sums_from", (tmp / "earlier.bin").string()}});
  REQUIRE(later.outcome.status == "ok");
  const SumCache sums = final_sums(later);
  REQUIRE(sums.stages().size() == before.stages().size() + 3);
  for (std::size_t i = 0; i < sums.stages().size(); ++i)
    CHECK(sums.stages()[i].stale() == (i < before.stages().size()));
  std::size_t stale = 0;
  for (const auto& [unit, history] : sums.units())
    for (const SumRecord& r : history) stale += r.stale();
  CHECK(stale > 0);
  // A fresh run's first stage gives only the output layer a capacity (phase 0's bootstrap); one
  // that carries the earlier sums over gives every unit the law's capacity from the start.
  const Json fresh_first = rows_of(earlier.rows, "stage").front().at("layers");
  const Json carried_first = rows_of(later.rows, "stage").front().at("layers");
  CHECK(fresh_first.at(0).find("capacity") == nullptr);
  CHECK(carried_first.at(0).find("capacity") != nullptr);

  write_text(tmp / "other.toml", toml);
  Registry registry;
  const Experiment other = load_experiment(
      tmp / "other.toml",
      {{"topology.hidden", "[16]"}, {"pipeline.sums_from", (tmp / "earlier.bin").string()}},
      registry);
  CHECK_THROWS_WITH(Trainer(other, registry), Catch::Contains("pipeline.sums_from") &&
                                                  Catch::Contains("unit layers"));
  CHECK_THROWS_WITH(load_experiment(tmp / "other.toml",
                                    {{"pipeline.sums_from", (tmp / "missing").string()}}, registry),
                    Catch::Contains("no sum cache at"));
}

TEST_CASE("ablate cache prints a run's sum cache, one unit's history, and exports every record",
          "[sched][pipeline][e2e]") {
  TempDir tmp("ablate-cache-command");
  write_text(tmp / "sched.toml",
             experiment_text("backward", "capacity_mlp", "[capacity]\nplugin = \"instant\"\n"));
  const auto r = test::run_ablate("run " + (tmp / "sched.toml").string() +
                                  " --set orderer.rounds=2 --out " + (tmp / "runs").string());
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const fs::path dir = run_dir_of(r);
  // The layer walk plans 2 rounds x 3 layers x 1 epoch: the progress count says so.
  CHECK_THAT(r.output, Catch::Contains("epoch 6/6"));
  const SumCache sums = decode_sums(read_file(dir / "sumcache.bin"), "sumcache.bin").sums;

  const auto shown = test::run_ablate("cache " + dir.string() + " --unit 1.3");
  INFO(shown.output);
  REQUIRE(shown.exit_code == 0);
  CHECK_THAT(shown.output, Catch::Contains("sum cache of 'sched seed 1'") &&
                               Catch::Contains("6 stages") && Catch::Contains("phase0") &&
                               Catch::Contains("unit 1.3"));
  std::size_t records = 0;
  for (const auto& [unit, history] : sums.units()) records += history.size();
  CHECK_THAT(shown.output, Catch::Contains(std::to_string(records) + " records (0 stale)"));

  const auto csv = test::run_ablate("cache " + dir.string() + " --export " + (tmp / "sums.csv").string());
  REQUIRE(csv.exit_code == 0);
  const std::string table = read_text(tmp / "sums.csv");
  CHECK(table.rfind("layer,layer_name,unit,position,stage,stale,s,n,margin,capacity\n", 0) == 0);
  CHECK(count_lines(table) == records + 1);
  const auto json = test::run_ablate("cache " + (dir / "sumcache.bin").string() + " --export " +
                                     (tmp / "sums.json").string());
  REQUIRE(json.exit_code == 0);
  const Json exported = Json::parse(read_text(tmp / "sums.json"));
  CHECK(exported.at("units").as_array().size() == sums.units().size());
  CHECK(exported.at("stages").as_array().size() == 6);
  CHECK(exported.at("stages").at(1).at("duration").as_number() > 0);

  const auto bad = test::run_ablate("cache " + dir.string() + " --unit 7.0");
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.output, Catch::Contains("--unit 7.0: give LAYER.INDEX"));
  CHECK(test::run_ablate("cache " + (tmp / "nowhere").string()).exit_code == 2);
}
