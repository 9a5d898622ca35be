// Every stored experiment (experiments/*.toml) passes `ablate check`: its sections, plugins, arms
// and findings validate against the built plugins, so a stored finding that no longer parses, or
// whose arm sets a key that was renamed, fails here rather than when someone tries to reproduce it.
#include <catch2/catch.hpp>
#include <algorithm>
#include <filesystem>
#include <vector>

#include "support.hpp"

namespace fs = std::filesystem;

TEST_CASE("every stored experiment passes ablate check", "[e2e][experiments]") {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(fs::path(ABLATE_SOURCE_DIR) / "experiments"))
    if (entry.is_regular_file() && entry.path().extension() == ".toml")
      files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 6);  // quickstart and the five findings of the seeds, at least
  for (const auto& file : files) {
    const auto r = ablate::test::run_ablate("check " + file.string());
    INFO(file.filename().string() << ":\n" << r.output);
    CHECK(r.exit_code == 0);
  }
}

namespace {

/// Hashtrons on isalnum, 10 hidden bits into one output through `combiner`: a majority over
/// groups that do not divide 10 fails only when the model is built.
std::string combiner_experiment(const std::string& name, const std::string& combiner) {
  return "[experiment]\nname = \"" + name + "\"\nseed = 1\nseeds = [1, 2]\n"
         "[dataset]\nplugin = \"isalnum\"\n[split]\nval_fraction = 0.0\nstratified = false\n"
         "[topology]\nplugin = \"hashtron_layers\"\nlayers = [10, 1]\ncombiners = [\"" +
         combiner + "\"]\n[train]\nepochs = 1\n";
}

}  // namespace

TEST_CASE("ablate check finds what only building the model shows, with exit 2 and the section",
          "[e2e][experiments]") {
  // A majority combiner over groups of 3 cannot follow a layer of 10 bits: every key is valid
  // alone, and only the model's build, with the data's shape, sees the mismatch.
  ablate::test::TempDir dir("ablate-check-build");
  ablate::test::write_text(dir / "comb.toml", combiner_experiment("comb", "majority:3"));
  const auto r = ablate::test::run_ablate("check " + (dir / "comb.toml").string());
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains((dir / "comb.toml").string() + ":10:") &&
                           Catch::Contains("10 bits do not split into groups of 3") &&
                           Catch::Contains("hashtron_layers"));
  CHECK_FALSE(fs::exists(dir / "runs"));
  // Fixed, it passes.
  ablate::test::write_text(dir / "ok.toml",
                           ablate::test::read_text(dir / "comb.toml").replace(
                               ablate::test::read_text(dir / "comb.toml").find("majority:3"), 10,
                               "majority:5"));
  CHECK(ablate::test::run_ablate("check " + (dir / "ok.toml").string()).exit_code == 0);
}

TEST_CASE("ablate check builds every arm's model: an arm whose model cannot be built is exit 2, "
          "naming the arm", "[e2e][experiments]") {
  ablate::test::TempDir dir("ablate-check-arms");
  ablate::test::write_text(dir / "arms.toml", combiner_experiment("arms", "majority:5") + R"(
[[arm]]
name = "fives"
[[arm]]
name = "threes"
set = { "topology.combiners" = ["majority:3"] }
[[expect]]
finding = "either"
check = "fives.test_accuracy >= 0"
)");
  const auto r = ablate::test::run_ablate("check " + (dir / "arms.toml").string());
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("arm 'threes'") &&
                           Catch::Contains("10 bits do not split into groups of 3"));
}

namespace {

ablate::test::CommandResult findings_tool(const std::string& args, const fs::path& root = {}) {
  const std::string env = root.empty() ? "" : "ABLATE_FINDINGS_ROOT=" + root.string() + " ";
  return ablate::test::run_command(env + "/usr/bin/python3 " + std::string(ABLATE_SOURCE_DIR) +
                                   "/tools/findings.py " + args);
}

}  // namespace

TEST_CASE("docs/RESEARCH_PLUGINS.md's findings table is generated from the recorded runs",
          "[e2e][experiments][findings]") {
  // Each stored experiment with findings has a record whose findings are its [[expect]]s, and
  // the doc's table is the one the records give.
  const auto r = findings_tool("check");
  INFO(r.output);
  CHECK(r.exit_code == 0);
}

TEST_CASE("tools/findings.py records a real reproduction, writes its table, and sees it go stale",
          "[e2e][experiments][findings]") {
  ablate::test::TempDir root("ablate-findings");
  fs::create_directories(root / "experiments");
  fs::create_directories(root / "docs");
  const std::string experiment =
      "[experiment]\nname = \"tiny\"\nseed = 1\nseeds = [1, 2]\n"
      "[dataset]\nplugin = \"digits\"\n[split]\nval_fraction = 0.1\n"
      "[topology]\nplugin = \"mlp\"\nhidden = [16]\n[train]\nepochs = 2\nthreads = 1\n"
      "[[arm]]\nname = \"small\"\n"
      "[[arm]]\nname = \"wide\"\nset = { \"topology.hidden\" = [64] }\n"
      "[[expect]]\nfinding = \"a wider MLP is no worse\"\n"
      "check = \"diff_ci95(wide.test_accuracy, small.test_accuracy) > -0.5\"\n";
  ablate::test::write_text(root / "experiments" / "tiny.toml", experiment);
  ablate::test::write_text(root / "docs" / "RESEARCH_PLUGINS.md",
                           "# doc\n\n<!-- findings table: generated by tools/findings.py table; "
                           "do not edit -->\nold\n<!-- end of findings table -->\n\nafter\n");
  // No record yet: check names the experiment.
  auto r = findings_tool("check", root.path());
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("experiments/tiny.toml: no record"));

  const auto run = ablate::test::run_ablate("reproduce " + (root / "experiments/tiny.toml").string() +
                                            " -j 2 --out " + (root / "out").string());
  INFO(run.output);
  REQUIRE(run.exit_code == 0);
  fs::path study;
  for (const auto& entry : fs::directory_iterator(root / "out" / "tiny")) study = entry.path();
  r = findings_tool("record " + study.string(), root.path());
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  REQUIRE(fs::exists(root / "experiments" / "findings" / "tiny.json"));
  REQUIRE(findings_tool("table", root.path()).exit_code == 0);
  const std::string doc = ablate::test::read_text(root / "docs" / "RESEARCH_PLUGINS.md");
  CHECK_THAT(doc, Catch::Contains("| tiny (seeds 1, 2; ") &&
                      Catch::Contains("| a wider MLP is no worse | wide.test_accuracy - "
                                      "small.test_accuracy: +") &&
                      Catch::Contains("| HOLDS | ") && Catch::Contains("at -j 2 |") &&
                      Catch::Contains("\nafter\n"));
  CHECK_FALSE(Catch::Contains("\nold\n").match(doc));
  CHECK(findings_tool("check", root.path()).exit_code == 0);

  // A finding edited after the run, or a table typed over, is stale: check says which.
  std::string edited = experiment;
  edited.replace(edited.find("no worse"), 8, "better");
  ablate::test::write_text(root / "experiments" / "tiny.toml", edited);
  r = findings_tool("check", root.path());
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("experiments/tiny.toml: its [[expect]]s are not the ones"));
  ablate::test::write_text(root / "experiments" / "tiny.toml", experiment);
  ablate::test::write_text(root / "docs" / "RESEARCH_PLUGINS.md",
                           doc.substr(0, doc.find("| HOLDS")) + "| FAILS" +
                               doc.substr(doc.find("| HOLDS") + 7));
  r = findings_tool("check", root.path());
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("the findings table is not the generated one"));
}
