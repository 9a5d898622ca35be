// The research plugins (issue 5) in real runs of the `ablate` binary on sklearn's digits: EWC
// at least halves forgetting on a two-task sequence; the router's oracle accuracy is never below
// its final accuracy, with every figure present; runs of each topology killed mid-way resume to
// the same metrics, bit for bit.
#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <regex>
#include <thread>

#include "support.hpp"

namespace fs = std::filesystem;
using ablate::test::CommandResult;
using ablate::test::count_lines;
using ablate::test::read_text;
using ablate::test::run_ablate;
using ablate::test::run_dir_of;
using ablate::test::TempDir;
using ablate::test::write_text;
using ablate::test::without_clock;

namespace {



/// A number of summary.json, which must be there.
double summary_figure(const fs::path& dir, const std::string& key) {
  const std::string summary = read_text(dir / "summary.json");
  const std::regex pattern("\"" + key + "\":(-?[0-9.eE+-]+)");
  std::smatch match;
  INFO(summary);
  REQUIRE(std::regex_search(summary, match, pattern));
  return std::stod(match[1].str());
}

fs::path run_ok(const fs::path& file, const std::string& extra, const fs::path& out) {
  const auto r = run_ablate("run " + file.string() + " --out " + out.string() + " " + extra);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  return run_dir_of(r);
}

const char* kDigits = R"(
[dataset]
plugin = "digits"

[train]
batch_size = 32
lr = 0.05
threads = 1
checkpoint_every = 1
)";

}  // namespace

TEST_CASE("ewc at least halves forgetting of the first of two permuted-digits tasks",
          "[research][ewc][e2e]") {
  TempDir tmp("ablate-ewc");
  write_text(tmp / "ewc.toml", std::string(R"(
[experiment]
name = "ewc-forgetting"
seed = 1

[tasks]
mode = "permuted"
count = 2

[topology]
plugin = "mlp"
hidden = [64]

[[regularizer]]
plugin = "ewc"
lambda = 100
samples = 200
)") + kDigits + "epochs = 10\n");
  const fs::path with_ewc = run_ok(tmp / "ewc.toml", "", tmp / "runs");
  const fs::path without = run_ok(tmp / "ewc.toml", "--set regularizer.lambda=0", tmp / "runs");
  const double forgetting_ewc = summary_figure(with_ewc, "forgetting");
  const double forgetting_none = summary_figure(without, "forgetting");
  INFO("forgetting with EWC " << forgetting_ewc << ", without " << forgetting_none);
  CHECK(forgetting_none > 0.2);  // the baseline does forget: the comparison means something
  CHECK(forgetting_ewc <= 0.5 * forgetting_none);
  // Learning the second task is not given up for it.
  const std::string metrics = without_clock(read_text(with_ewc / "metrics.jsonl"));
  CHECK_THAT(metrics, Catch::Contains("\"kind\":\"task\",\"task\":1"));
  CHECK(summary_figure(with_ewc, "test_accuracy") > summary_figure(without, "test_accuracy"));
}

TEST_CASE("a head per task spares the first of two split-digits tasks from forgetting",
          "[research][heads][e2e]") {
  TempDir tmp("ablate-heads");
  write_text(tmp / "heads.toml", std::string(R"(
[experiment]
name = "heads-forgetting"
seed = 1

[tasks]
mode = "split_classes"
classes_per_task = 5

[topology]
plugin = "mlp"
hidden = [64]
heads = "per_task"
)") + kDigits + "epochs = 5\n");
  const fs::path per_task = run_ok(tmp / "heads.toml", "", tmp / "runs");
  const fs::path shared = run_ok(tmp / "heads.toml", "--set topology.heads=shared", tmp / "runs");
  const double forgetting_heads = summary_figure(per_task, "forgetting");
  const double forgetting_shared = summary_figure(shared, "forgetting");
  INFO("forgetting with a head per task " << forgetting_heads << ", shared " << forgetting_shared);
  CHECK(forgetting_shared > 0.5);  // one shared head forgets the first classes almost entirely
  CHECK(forgetting_heads <= 0.5 * forgetting_shared);
}

TEST_CASE("router: oracle accuracy >= final accuracy in every training mode, figures present",
          "[research][router][e2e]") {
  TempDir tmp("ablate-router");
  write_text(tmp / "router.toml", std::string(R"(
[experiment]
name = "router"
seed = 2

[topology]
plugin = "router"
groups = "given"
group_lists = ["0 6 8 9", "1 4 7", "2 3 5"]
router_depth = 2
router_width = 32
specialist_hidden = [32]
phase_epochs = 3
)") + kDigits + "epochs = 6\n");
  for (const char* training : {"joint", "two_phase", "mixed"}) {
    DYNAMIC_SECTION(training) {
      const fs::path dir = run_ok(tmp / "router.toml",
                                  std::string("--set topology.training=") + training, tmp / "runs");
      const double oracle = summary_figure(dir, "oracle_accuracy");
      const double final_accuracy = summary_figure(dir, "final_accuracy");
      const double routing = summary_figure(dir, "routing_accuracy");
      INFO("routing " << routing << ", oracle " << oracle << ", final " << final_accuracy);
      CHECK(oracle >= final_accuracy);
      CHECK(final_accuracy == Approx(summary_figure(dir, "test_accuracy")));
      CHECK(final_accuracy ==
            Approx(routing * summary_figure(dir, "accuracy_given_correct_routing")));
      CHECK(summary_figure(dir, "accuracy_given_wrong_routing") == 0.0);
      CHECK(routing > 0.5);  // it learned something to route by
      const std::string metrics = without_clock(read_text(dir / "metrics.jsonl"));
      CHECK_THAT(metrics, Catch::Contains("\"training_phase\""));
    }
  }
}

TEST_CASE("research topologies killed mid-run resume to the uninterrupted metrics",
          "[research][e2e][resume]") {
  const std::map<std::string, std::string> experiments{{"experts", R"(
[topology]
plugin = "fixed_experts"
experts = 4
expert_hidden = [24]
top_k = 2
balance = 0.05
grow = true
start = 2
grow_every = 2
dropout = 0.2

[[regularizer]]
plugin = "entropy"
target = "gate"
beta = 0.05
)"},
                                                       {"router", R"(
[topology]
plugin = "router"
router_depth = 2
router_width = 24
specialist_hidden = [24]
training = "two_phase"
phase_epochs = 3
dropout = 0.2
)"},
                                                       {"chains", R"(
[topology]
plugin = "random_chains"
hidden = [32, 24]
chains = 60
warmup = 1
interval = 1
policy = "rigl"
min_span = 1
density = 0.5
decay_epochs = 30

[orderer]
plugin = "forward"
epochs_per_stage = 2
rounds = 4

[capacity]
plugin = "instant"
)"},
                                                       {"ewc", R"(
[tasks]
mode = "permuted"
count = 2

[topology]
plugin = "random_chains"
hidden = [32]
chains = 40
warmup = 1
interval = 1

[[regularizer]]
plugin = "ewc"
mode = "online"
gamma = 0.9
lambda = 50
samples = 50
)"}};
  for (const auto& [name, body] : experiments) {
    DYNAMIC_SECTION(name) {
      TempDir tmp("ablate-research-resume");
      const fs::path file = tmp / (name + ".toml");
      // Runs on digits take milliseconds an epoch: enough epochs that a kill lands mid-run.
      write_text(file, "[experiment]\nname = \"" + name + "\"\nseed = 4\n" + body + kDigits +
                           "epochs = 24\n");
      const fs::path reference = run_ok(file, "", tmp / "ref");
      const std::string expected = without_clock(read_text(reference / "metrics.jsonl"));
      REQUIRE(count_lines(expected) >= 24);
      for (std::size_t kill_after : {3u, 5u, 12u}) {
        const fs::path out = tmp / ("killed" + std::to_string(kill_after));
        const fs::path dir =
            ablate::test::kill_run_when(
                {file.string(), "--out", out.string()}, out, name,
                [&](const fs::path& run) {
                  return count_lines(without_clock(read_text(run / "metrics.jsonl"))) >= kill_after;
                },
                std::chrono::seconds(120), tmp / "killed.log")
                .dir;
        REQUIRE(!dir.empty());
        const auto resumed = run_ablate("resume " + dir.string());
        INFO(name << " killed after " << kill_after << " rows\n" << resumed.output);
        REQUIRE(resumed.exit_code == 0);
        CHECK(without_clock(read_text(dir / "metrics.jsonl")) == expected);
        CHECK(read_text(dir / "summary.json").find("\"status\":\"ok\"") != std::string::npos);
      }
    }
  }
}
