// The hashtron engine through `ablate run` (issue 7): the real binary, the real hashtron_layers,
// orderer, capacity and dataset plugins, synthetic data (isalnum, sqrt_bits: always present).
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <csignal>
#include <sstream>
#include <thread>

#include "runs/json.hpp"
#include "stats/sum_cache_io.hpp"
#include "state_support.hpp"
#include "support.hpp"
#include "util/program.hpp"

using namespace ablate::test;
namespace fs = std::filesystem;

namespace {

// The backward pipeline on sqrt_bits (floor(sqrt(x)) of 14-bit x, 128 classes as 7 output bits):
// phase 0 on the output layer, then the hidden layer in gold-zone order, a capacity law setting
// each unit's premodulo from its sums; four rounds. Sized to take a few seconds on one thread.
const char* kPipeline = R"(
[experiment]
name = "pipeline"
seed = 5

[dataset]
plugin = "sqrt_bits"
bits = 14
holdout = 0.25

[split]
val_fraction = 0.1
stratified = false

[topology]
plugin = "hashtron_layers"
layers = [56, 0]
taps = 8
vote = "hamming"

[orderer]
plugin = "gold_zone"
units = 1000
rounds = 4

[capacity]
plugin = "moving_average"

[train]
epochs = 1
threads = 1
checkpoint_every = 1
unit_checkpoint_seconds = 0  # a checkpoint after every unit: the kill below lands between any two
)";

ablate::Json summary_of(const fs::path& dir) {
  return ablate::Json::parse(read_text(dir / "summary.json"));
}

std::vector<ablate::Json> rows_of(const fs::path& dir, const std::string& kind) {
  std::vector<ablate::Json> rows;
  std::istringstream lines(without_clock(read_text(dir / "metrics.jsonl")));
  for (std::string line; std::getline(lines, line);) {
    ablate::Json row = ablate::Json::parse(line);
    if (row.at("kind").as_string() == kind) rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace

TEST_CASE("ablate run: one hashtron learns isalnum exactly (the stored experiment)",
          "[hashtron][e2e]") {
  TempDir tmp("ablate-hashtron-isalnum");
  const auto r = run_ablate("run " + std::string(ABLATE_SOURCE_DIR) +
                            "/experiments/hashtron_isalnum.toml --out " + (tmp / "runs").string());
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const fs::path dir = run_dir_of(r);
  const ablate::Json summary = summary_of(dir);
  CHECK(summary.at("status").as_string() == "ok");
  CHECK(summary.at("test_accuracy").as_number() == 1.0);
  CHECK(summary.at("train_accuracy").as_number() == 1.0);
  CHECK(fs::exists(dir / "sumcache.bin"));
  const auto manifest = read_text(dir / "manifest.json");
  CHECK_THAT(manifest, Catch::Contains("\"hashtron_layers\""));
  // Hashtrons minimize no loss: the epoch line shows none (it used to say "loss 0.0000").
  CHECK_THAT(r.output, Catch::Contains("epoch 1/1  train 100.00%"));
  CHECK_THAT(r.output, !Catch::Contains("loss 0.0000"));
}

TEST_CASE("ablate run: the backward pipeline reports its figures, and resumed after a kill "
          "ends the same",
          "[hashtron][e2e][resume]") {
  TempDir tmp("ablate-hashtron-resume");
  write_text(tmp / "pipeline.toml", kPipeline);
  const auto reference = run_ablate("run " + (tmp / "pipeline.toml").string() + " --out " +
                                    (tmp / "ref").string());
  INFO(reference.output);
  REQUIRE(reference.exit_code == 0);
  const fs::path ref = run_dir_of(reference);

  // Phase 0 first, with premodulo = N; then the capacity law; the epic's figures in summary.json.
  const auto stages = rows_of(ref, "stage");
  REQUIRE(stages.size() == 8);  // 4 rounds x (output layer, hidden layer)
  CHECK(stages.front().at("label").as_string() == "phase0");
  CHECK(stages.front().at("layer").as_number() == 1);
  const ablate::Json summary = summary_of(ref);
  CHECK(summary.at("final_neuron_first").as_number() == 1);
  CHECK(summary.at("sumcache_bytes").as_number() > 0);
  CHECK(summary.at("sumcache_bytes").as_number() < 100e6);
  CHECK(summary.contains("capacity_r2"));
  // The run directory's sumcache.bin: the last checkpoint's snapshot, checksummed and whole.
  const auto snapshot = ablate::decode_sums(read_text(ref / "sumcache.bin"), "sumcache.bin");
  CHECK(snapshot.sums.stages().size() == 8);
  CHECK(snapshot.identity.run == "pipeline seed 5");
  const auto& output_layer = stages.front().at("layers").at(1);
  const double n = 0.9 * 0.75 * 16384;  // training samples: 75% of the inputs, 10% held out
  // The capacity phase 0 trained with: sqrt(N), i.e. premodulo = N.
  CHECK(output_layer.at("capacity").at("min").as_number() == Approx(std::sqrt(n)).epsilon(0.01));
  CHECK(output_layer.at("capacity").at("max").as_number() == Approx(std::sqrt(n)).epsilon(0.01));

  // Killed by SIGKILL mid-run (checkpoints land after every unit), then resumed: the same
  // metrics, sum cache and final checkpoint, byte for byte.
  const fs::path out = tmp / "killed";
  // Killed at the third stage row (of 8): past phase 0 and a hidden layer, most still to do.
  const KilledRun killed = kill_run_when(
      {(tmp / "pipeline.toml").string(), "--out", out.string()}, out, "pipeline",
      [](const fs::path& run) { return rows_of(run, "stage").size() >= 3; },
      std::chrono::seconds(120), tmp / "killed.log");
  const fs::path dir = killed.dir;
  REQUIRE(!dir.empty());
  REQUIRE(killed.exit.signal == SIGKILL);  // it was still running: the resume has work to do
  REQUIRE_FALSE(fs::exists(dir / "summary.json"));
  const auto resumed = run_ablate("resume " + dir.string());
  INFO(resumed.output);
  REQUIRE(resumed.exit_code == 0);
  CHECK(without_clock(read_text(dir / "metrics.jsonl")) == without_clock(read_text(ref / "metrics.jsonl")));
  CHECK(sums_without_clock(read_text(dir / "sumcache.bin")) ==
        sums_without_clock(read_text(ref / "sumcache.bin")));
  CHECK(checkpoint_without_clock(dir / "checkpoints/last.safetensors") ==
        checkpoint_without_clock(ref / "checkpoints/last.safetensors"));
  CHECK(summary_of(dir).at("test_accuracy").as_number() == summary.at("test_accuracy").as_number());
}

TEST_CASE("ablate run: a hashtron layer stuck for `patience` stages is skipped forward",
          "[hashtron][e2e]") {
  // isalnum is learnt by the first fit; the next fits change nothing, so after 2 stages
  // without progress the walk leaves the layer (the epic's "forward skip after 3 attempts").
  TempDir tmp("ablate-hashtron-skip");
  const auto r = run_ablate("run " + std::string(ABLATE_SOURCE_DIR) +
                            "/experiments/hashtron_isalnum.toml --out " + (tmp / "runs").string() +
                            " --set orderer.plugin=gold_zone --set orderer.stages_per_layer=10"
                            " --set orderer.patience=2 --set orderer.rounds=2");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const auto stages = rows_of(run_dir_of(r), "stage");
  REQUIRE(stages.size() >= 4);
  CHECK(stages.size() < 20);  // without the skip: 10 stages per round
  CHECK_THAT(stages[3].at("label").as_string(),
             Catch::Contains("skipped forward from layer hashtron1 after 2 stages without progress"));
}

TEST_CASE("ablate run: a regularizer with a hashtron topology exits 2 naming the section",
          "[hashtron][e2e]") {
  TempDir tmp("ablate-hashtron-bad");
  write_text(tmp / "bad.toml", R"([experiment]
name = "bad"

[dataset]
plugin = "isalnum"

[topology]
plugin = "hashtron_layers"

[[regularizer]]
plugin = "entropy"
)");
  const auto r = run_ablate("run " + (tmp / "bad.toml").string() + " --out " + (tmp / "runs").string());
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("bad.toml:10"));
  CHECK_THAT(r.output, Catch::Contains("[[regularizer]]"));
  CHECK_THAT(r.output, Catch::Contains("hashtron_layers"));
}
