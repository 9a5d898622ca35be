// `ablate run`, `check` and `resume` end to end: the real binary, real plugins, real data
// (sklearn's digits, installed by tools/setup-data.sh).
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <regex>
#include <thread>

#include "support.hpp"

using namespace ablate::test;
namespace fs = std::filesystem;

namespace {

const char* kExperiment = R"(
[experiment]
name = "e2e"
seed = 3

[dataset]
plugin = "digits"

[topology]
plugin = "mlp"
hidden = [64, 32]

[train]
epochs = 6
batch_size = 32
lr = 0.05
threads = 1
checkpoint_every = 1
)";


}  // namespace

TEST_CASE("a run leaves every file of its run directory, and its config reproduces it",
          "[e2e]") {
  TempDir tmp("ablate-e2e");
  write_text(tmp / "e2e.toml", kExperiment);
  const auto first = run_ablate("run " + (tmp / "e2e.toml").string() + " --out " + (tmp / "runs").string());
  INFO(first.output);
  REQUIRE(first.exit_code == 0);
  const fs::path dir = run_dir_of(first);
  for (const char* file : {"config.toml", "manifest.json", "metrics.jsonl", "log.txt", "summary.json",
                           "checkpoints/last.safetensors"})
    CHECK(fs::exists(dir / file));
  CHECK(dir.parent_path().filename() == "e2e");
  const std::string summary = read_text(dir / "summary.json");
  CHECK_THAT(summary, Catch::Contains("\"status\":\"ok\""));
  // The console ends with the figures a researcher looks for first.
  CHECK(std::regex_search(first.output, std::regex(R"(done in [0-9.]+ s: test accuracy [0-9.]+%, val accuracy [0-9.]+%)")));
  CHECK_THAT(summary, Catch::Contains("\"test_accuracy\""));
  const std::string manifest = read_text(dir / "manifest.json");
  for (const char* key : {"\"seed\":3", "\"commit\"", "\"sha256\"", "\"compiler\"", "\"threads\":1",
                           "\"isa\":\"x86-64", "\"blas_core\":\""})
    CHECK_THAT(manifest, Catch::Contains(key));
  // No temporary files left behind.
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    CHECK(entry.path().filename().string().find(".tmp") == std::string::npos);

  const std::string metrics = without_clock(read_text(dir / "metrics.jsonl"));
  CHECK(count_lines(metrics) >= 6);
  const auto again = run_ablate("run " + (dir / "config.toml").string() + " --out " + (tmp / "runs").string());
  INFO(again.output);
  REQUIRE(again.exit_code == 0);
  const fs::path dir2 = run_dir_of(again);
  CHECK(dir2 != dir);
  CHECK(without_clock(read_text(dir2 / "metrics.jsonl")) == metrics);

  // Another seed: other figures (the seed reaches the run).
  const auto other = run_ablate("run " + (tmp / "e2e.toml").string() + " --seed 4 --out " + (tmp / "runs").string());
  REQUIRE(other.exit_code == 0);
  CHECK(without_clock(read_text(run_dir_of(other) / "metrics.jsonl")) != metrics);
}

TEST_CASE("two threads: the same seed gives bit-identical metrics, run after run", "[e2e]") {
  // Layers wide enough that the GEMMs are cut across the threads (nn/gemm_threading.hpp) and
  // the optimizer step is split: what could make a multi-threaded run depend on timing.
  TempDir tmp("ablate-threads");
  write_text(tmp / "threads.toml", kExperiment);
  const std::string settings =
      " --set 'topology.hidden=[256, 256]' --set train.threads=2 --set train.epochs=3";
  std::string first;
  for (int attempt = 0; attempt < 3; ++attempt) {
    const auto r = run_ablate("run " + (tmp / "threads.toml").string() + settings + " --out " +
                              (tmp / "runs").string());
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    const std::string metrics = without_clock(read_text(run_dir_of(r) / "metrics.jsonl"));
    CHECK_THAT(read_text(run_dir_of(r) / "manifest.json"), Catch::Contains("\"threads\":2"));
    if (attempt == 0) first = metrics;
    CHECK(metrics == first);
  }
}

namespace {

/// `ablate ARGS` with the GEMM threading cache in `cache`.
ablate::test::CommandResult run_cached(const fs::path& cache, const std::string& args) {
  return run_command("env -u ABLATE_PLUGIN_PATH ABLATE_CACHE_DIR=" + cache.string() + " " +
                     std::string(ABLATE_BINARY) + " " + args);
}

/// The "threading" manifest.json records under "gemm_threading", and its "source".
std::pair<std::string, std::string> gemm_choice_of(const fs::path& run) {
  std::smatch m;
  const std::string manifest = read_text(run / "manifest.json");
  if (!std::regex_search(manifest, m,
                         std::regex(R"re("gemm_threading":\{"threading":"(\w+)","source":"([\w ]+)")re")))
    return {};
  return {m[1], m[2]};
}

}  // namespace

TEST_CASE("gemm_threading auto is measured once per machine, cached, and leaves no trace",
          "[e2e][gemm]") {
  TempDir tmp("ablate-gemm-auto");
  write_text(tmp / "gemm.toml", kExperiment);
  const std::string run = "run " + (tmp / "gemm.toml").string() +
                          " --set 'topology.hidden=[256, 256]' --set train.threads=2 "
                          "--set train.epochs=2 --out " + (tmp / "runs").string();
  const auto first = run_cached(tmp / "cache", run);
  INFO(first.output);
  REQUIRE(first.exit_code == 0);
  const auto [threading, source] = gemm_choice_of(run_dir_of(first));
  CHECK((threading == "host" || threading == "blas"));
  CHECK(source == "measured");
  CHECK_THAT(first.output, Catch::Contains("GEMM threading at 2 threads: " + threading +
                                           " (measured: "));
  CHECK_THAT(read_text(tmp / "cache" / "gemm-threading.json"),
             Catch::Contains("| 2 threads | batch 32, parameters 256x64 1x256 256x256"));

  const auto second = run_cached(tmp / "cache", run);
  REQUIRE(second.exit_code == 0);
  CHECK(gemm_choice_of(run_dir_of(second)) == std::pair{threading, std::string("cached")});
  // The measurement's steps were undone: the same bits as a run told the threading outright.
  const auto told = run_cached(tmp / "other-cache", run + " --set train.gemm_threading=" + threading);
  REQUIRE(told.exit_code == 0);
  CHECK(gemm_choice_of(run_dir_of(told)) == std::pair{threading, std::string("config")});
  const std::string metrics = without_clock(read_text(run_dir_of(first) / "metrics.jsonl"));
  CHECK(without_clock(read_text(run_dir_of(second) / "metrics.jsonl")) == metrics);
  CHECK(without_clock(read_text(run_dir_of(told) / "metrics.jsonl")) == metrics);
  CHECK_FALSE(fs::exists(tmp / "other-cache" / "gemm-threading.json"));

  const auto one = run_cached(tmp / "cache", "run " + (tmp / "gemm.toml").string() +
                                                 " --set train.epochs=1 --out " + (tmp / "runs").string());
  REQUIRE(one.exit_code == 0);
  CHECK(gemm_choice_of(run_dir_of(one)).second == "one thread");
}

TEST_CASE("a run killed with SIGKILL at any point resumes to the uninterrupted metrics",
          "[e2e][resume]") {
  TempDir tmp("ablate-resume");
  write_text(tmp / "e2e.toml", kExperiment);
  const auto reference = run_ablate("run " + (tmp / "e2e.toml").string() + " --out " + (tmp / "ref").string());
  REQUIRE(reference.exit_code == 0);
  const std::string expected = without_clock(read_text(run_dir_of(reference) / "metrics.jsonl"));

  // Kill after 0, 1, 3 and 5 metrics rows have appeared (and mid-epoch wherever that lands).
  for (std::size_t kill_after : {0u, 1u, 3u, 5u}) {
    DYNAMIC_SECTION("killed after " << kill_after << " rows") {
      const fs::path out = tmp / ("killed" + std::to_string(kill_after));
      const fs::path dir =
          kill_run_when({(tmp / "e2e.toml").string(), "--out", out.string()}, out, "e2e",
                        [&](const fs::path& run) {
                          return kill_after == 0 ||
                                 count_lines(without_clock(read_text(run / "metrics.jsonl"))) >= kill_after;
                        },
                        std::chrono::seconds(60), tmp / "killed.log")
              .dir;
      REQUIRE(!dir.empty());
      const auto resumed = run_ablate("resume " + dir.string());
      INFO(resumed.output);
      REQUIRE(resumed.exit_code == 0);
      CHECK(without_clock(read_text(dir / "metrics.jsonl")) == expected);
      CHECK_THAT(read_text(dir / "summary.json"), Catch::Contains("\"status\":\"ok\""));
      // A finished run is not resumed twice.
      CHECK(run_ablate("resume " + dir.string()).exit_code == 1);
    }
  }
}

namespace {

/// A finished 2-epoch run made resumable again (as if killed after its last checkpoint).
fs::path unfinished_run(const TempDir& tmp, const std::string& settings = "") {
  write_text(tmp / "e2e.toml", kExperiment);
  const auto run = run_ablate("run " + (tmp / "e2e.toml").string() + " --set train.epochs=2" +
                              settings + " --out " + (tmp / "runs").string());
  REQUIRE(run.exit_code == 0);
  const fs::path dir = run_dir_of(run);
  fs::remove(dir / "summary.json");
  return dir;
}

}  // namespace

TEST_CASE("a resume on another CPU or build goes on, and says the bits may differ",
          "[e2e][resume]") {
  TempDir tmp("ablate-other-cpu");
  const fs::path dir = unfinished_run(tmp);
  const std::string manifest = read_text(dir / "manifest.json");
  write_text(dir / "manifest.json",
             std::regex_replace(manifest, std::regex(R"("isa":"[^"]*")"),
                                R"("isa":"x86-64 avx2 fma elsewhere")"));
  const auto resumed = run_ablate("resume " + dir.string());
  INFO(resumed.output);
  REQUIRE(resumed.exit_code == 0);
  CHECK_THAT(resumed.output, Catch::Contains("the results may differ in the last bits"));
  CHECK_THAT(resumed.output, Catch::Contains("isa: x86-64 avx2 fma elsewhere, here x86-64"));
  const std::string after = read_text(dir / "manifest.json");
  CHECK_THAT(after, Catch::Contains("\"resumes\":[{"));
  CHECK_THAT(after, Catch::Contains("\"numerics_differ\":[\"isa: x86-64 avx2 fma elsewhere"));
  CHECK_THAT(read_text(dir / "summary.json"), Catch::Contains("\"status\":\"ok\""));
}

TEST_CASE("a resume on the same machine records itself without a warning", "[e2e][resume]") {
  TempDir tmp("ablate-same-cpu");
  const fs::path dir = unfinished_run(tmp);
  const auto resumed = run_ablate("resume " + dir.string());
  INFO(resumed.output);
  REQUIRE(resumed.exit_code == 0);
  CHECK_THAT(resumed.output, !Catch::Contains("may differ"));
  CHECK_THAT(read_text(dir / "manifest.json"), Catch::Contains("\"numerics_differ\":[]"));
}

TEST_CASE("a resume keeps the GEMM threading its manifest recorded", "[e2e][resume][gemm]") {
  TempDir tmp("ablate-gemm-resume");
  const fs::path dir = unfinished_run(tmp, " --set train.threads=2");
  const auto [recorded, source] = gemm_choice_of(dir);
  REQUIRE(!recorded.empty());
  // Whatever this machine measured or cached, the run's bits carry the recorded threading: make
  // it the other one, and the resume must use that.
  const std::string other = recorded == "host" ? "blas" : "host";
  write_text(dir / "manifest.json",
             std::regex_replace(read_text(dir / "manifest.json"),
                                std::regex(R"("gemm_threading":\{"threading":"\w+")"),
                                R"("gemm_threading":{"threading":")" + other + "\""));
  const auto resumed = run_ablate("resume " + dir.string());
  INFO(resumed.output);
  REQUIRE(resumed.exit_code == 0);
  CHECK_THAT(resumed.output, Catch::Contains("GEMM threading at 2 threads: " + other +
                                             " (recorded in manifest.json, kept on resume"));
  CHECK(gemm_choice_of(dir).first == other);
}

TEST_CASE("bad experiments exit 2 naming the file, line and key", "[e2e]") {
  TempDir tmp("ablate-bad");
  std::string bad = kExperiment;
  bad.replace(bad.find("lr = 0.05"), 9, "lr = -1.0");
  write_text(tmp / "bad.toml", bad);
  const auto r = run_ablate("check " + (tmp / "bad.toml").string());
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("bad.toml:16"));
  CHECK_THAT(r.output, Catch::Contains("lr"));

  const auto run = run_ablate("run " + (tmp / "bad.toml").string() + " --out " + (tmp / "runs").string());
  CHECK(run.exit_code == 2);
  CHECK_FALSE(fs::exists(tmp / "runs"));  // nothing is created for an invalid experiment

  const auto no_file = run_ablate("run");
  CHECK(no_file.exit_code == 2);  // says what is missing in the user's words, not an option's
  CHECK_THAT(no_file.output, Catch::Contains("missing an argument; usage: ablate run FILE"));
  CHECK_THAT(run_ablate("compare").output, Catch::Contains("usage: ablate compare DIR..."));
  // A negative seed is refused as out of range (it once wrapped to 2^64 - 1).
  write_text(tmp / "good.toml", kExperiment);
  const auto negative = run_ablate("check " + (tmp / "good.toml").string() + " --seed -1");
  CHECK(negative.exit_code == 2);
  CHECK_THAT(negative.output, Catch::Contains("experiment.seed = -1 is out of range: integer >= 0"));
  CHECK(run_ablate("frobnicate").exit_code == 2);
  CHECK(run_ablate("run --help").exit_code == 0);
  // A folder that is not a run or a study is the user's mistake (2), not a failed run (1).
  fs::create_directories(tmp / "empty");
  const auto resume = run_ablate("resume " + (tmp / "empty").string());
  CHECK(resume.exit_code == 2);
  CHECK_THAT(resume.output, Catch::Contains("is not a run directory (it has no config.toml)"));
  CHECK(run_ablate("resume " + (tmp / "nowhere").string()).exit_code == 2);
  CHECK(run_ablate("compare " + (tmp / "empty").string()).exit_code == 2);
  CHECK(run_ablate("sweep --status " + (tmp / "empty").string()).exit_code == 2);
}

TEST_CASE("plugins and describe list what is installed", "[e2e]") {
  const auto list = run_ablate("plugins --kind topology");
  REQUIRE(list.exit_code == 0);
  CHECK_THAT(list.output, Catch::Contains("mlp"));
  CHECK_THAT(list.output, !Catch::Contains("digits"));
  const auto mlp = run_ablate("describe mlp");
  REQUIRE(mlp.exit_code == 0);
  CHECK_THAT(mlp.output, Catch::Contains("hidden"));
  CHECK_THAT(mlp.output, Catch::Contains("activation"));
  CHECK(run_ablate("describe no_such_plugin").exit_code == 2);
  CHECK(run_ablate("plugins --kind nonsense").exit_code == 2);
}

TEST_CASE("a helper library in a plugin folder is skipped with a warning, every command still "
          "works",
          "[run][registry]") {
  const std::string helper = std::string(ABLATE_TEST_PLUGIN_DIR) + "/not_a_plugin";
  const auto r = run_command("ABLATE_PLUGIN_PATH=" + helper + " " + ABLATE_BINARY + " plugins --kind orderer");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("skipping " + helper + "/not_a_plugin.so") &&
                           Catch::Contains("not an ablate plugin"));
  CHECK_THAT(r.output, Catch::Contains("gold_zone"));
}
