// The out-of-tree SDK as a user meets it (docs/PLUGINS.md): ablate installed into a temporary
// prefix, a plugin of each kind scaffolded by `ablate new` outside the source tree and built
// with nothing but find_package(ablate), the tutorial run from the docs' own snippets, and an
// installed ablate beside the build tree.
#include <catch2/catch.hpp>

#include <fstream>
#include <regex>

#include "support.hpp"

using namespace ablate::test;
namespace fs = std::filesystem;

namespace {

/// Quoted for sh.
std::string q(const fs::path& path) { return "'" + path.string() + "'"; }

/// A clean environment for a user's commands: no plugin or package path of ours leaks in.
const std::string kClean = "env -u ABLATE_PLUGIN_PATH -u CMAKE_PREFIX_PATH ";

/// `cmake --install` of this build into `prefix`.
void install(const fs::path& prefix) {
  const auto r = run_command(kClean + q(ABLATE_CMAKE) + " --install " + q(ABLATE_BUILD_DIR) +
                             " --prefix " + q(prefix));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  REQUIRE(fs::exists(prefix / "bin/ablate"));
  REQUIRE(fs::exists(prefix / "lib/cmake/ablate/ablateConfig.cmake"));
}

/// A fenced block of a markdown file: its info string ("sh tutorial", "cpp file=x.cpp") and text.
struct Block {
  std::string info, text;
};

std::vector<Block> fenced_blocks(const std::string& markdown) {
  std::vector<Block> blocks;
  std::istringstream lines(markdown);
  std::optional<Block> open;
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("```")) {
      if (open) {
        blocks.push_back(*open);
        open.reset();
      } else {
        open = Block{line.substr(3), ""};
      }
    } else if (open) {
      open->text += line + "\n";
    }
  }
  return blocks;
}

}  // namespace

TEST_CASE("a plugin of each kind, scaffolded and built against an installed ablate, runs in it",
          "[sdk]") {
  TempDir root("ablate-sdk");
  const fs::path prefix = root / "prefix";
  install(prefix);
  const std::string host = kClean + q(prefix / "bin/ablate");

  for (const std::string kind : {"orderer", "capacity_law", "regularizer", "topology", "dataset"}) {
    {
      INFO("kind: " << kind);
      const std::string name = "sdk_" + kind;
      const fs::path project = root / "projects" / name;
      auto r = run_command(host + " new " + kind + " " + name + " --dir " + q(project));
      INFO(r.output);
      REQUIRE(r.exit_code == 0);
      for (const std::string file : {std::string("CMakeLists.txt"), name + ".cpp", "test_" + name + ".cpp",
                                     name + ".toml"})
        CHECK(fs::exists(project / file));
      // Built with only the installed package: its prefix is the one path given.
      r = run_command(kClean + q(ABLATE_CMAKE) + " -S " + q(project) + " -B " + q(project / "build") +
                      " -DCMAKE_PREFIX_PATH=" + q(prefix));
      INFO(r.output);
      REQUIRE(r.exit_code == 0);
      const std::string cache = read_text(project / "build/CMakeCache.txt");
      CHECK_THAT(cache, Catch::Contains("ablate_DIR:PATH=" + (prefix / "lib/cmake/ablate").string()));
      CHECK_THAT(cache, !Catch::Contains(ABLATE_SOURCE_DIR "/framework"));
      r = run_command(kClean + q(ABLATE_CMAKE) + " --build " + q(project / "build"));
      INFO(r.output);
      REQUIRE(r.exit_code == 0);
      CHECK(fs::exists(project / "build" / (name + ".so")));
      // Its own test: describe and a one-epoch run through the installed host.
      r = run_command(kClean + q(ABLATE_CTEST) + " --test-dir " + q(project / "build") +
                      " --output-on-failure");
      INFO(r.output);
      CHECK(r.exit_code == 0);
      // And as a user runs it: the example experiment finds the plugin through plugin_paths.
      r = run_command("cd " + q(project) + " && " + host + " run " + name + ".toml --out " +
                      q(root / "runs"));
      INFO(r.output);
      CHECK(r.exit_code == 0);
      CHECK_THAT(r.output, Catch::Contains("done in"));
      CHECK_THAT(r.output, !Catch::Contains("warning"));
    }
  }
}

TEST_CASE("ablate new refuses a bad name, a taken name and a folder in use", "[sdk]") {
  TempDir root("ablate-new");
  auto r = run_ablate("new regularizer L2-pull --dir " + q(root / "a"));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("lower case letters, digits and _"));
  r = run_ablate("new regularizer ewc --dir " + q(root / "b"));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("a plugin named 'ewc' exists already") &&
                           Catch::Contains("ewc.so"));
  r = run_ablate("new layer thing --dir " + q(root / "c"));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("kinds: orderer, capacity_law, regularizer, topology, dataset"));
  write_text(root / "d/notes.txt", "mine");
  r = run_ablate("new orderer mine --dir " + q(root / "d"));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("is not empty"));
  CHECK(read_text(root / "d/notes.txt") == "mine");
  for (const char* dir : {"a", "b", "c"}) CHECK_FALSE(fs::exists(root / dir));
}

TEST_CASE("an installed ablate and the build tree coexist, each with its own plugins", "[sdk]") {
  TempDir root("ablate-coexist");
  // DESTDIR stages the install; the staged host runs where it lies (nothing absolute in it).
  const fs::path stage = root / "stage";
  auto r = run_command("DESTDIR=" + q(stage) + " " + kClean + q(ABLATE_CMAKE) + " --install " +
                       q(ABLATE_BUILD_DIR) + " --prefix /opt/ablate-sdk-test");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_FALSE(fs::exists("/opt/ablate-sdk-test"));
  const fs::path installed = stage / "opt/ablate-sdk-test";
  const fs::path installed_plugins = installed / "lib/ablate/plugins";
  REQUIRE(fs::exists(installed_plugins / "ewc.so"));

  r = run_command(kClean + q(installed / "bin/ablate") + " plugins --kind regularizer");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains((installed_plugins / "ewc.so").string()));
  CHECK_THAT(r.output, !Catch::Contains(ABLATE_BUILD_DIR));
  r = run_ablate("plugins --kind regularizer");
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains(ABLATE_BUILD_DIR "/lib/ablate/plugins/ewc.so"));
  CHECK_THAT(r.output, !Catch::Contains(installed.string()));

  // The installed plugins on the build host's path: each name is a warning naming both files,
  // and the build tree's own plugin is the one used.
  write_text(root / "tiny.toml", R"([experiment]
name = "tiny"
seed = 1
[dataset]
plugin = "synthetic"
n = 200
n_test = 50
[topology]
plugin = "mlp"
hidden = [8]
[train]
epochs = 1
)");
  r = run_command("ABLATE_PLUGIN_PATH=" + q(installed_plugins) + " " + ABLATE_BINARY + " run " +
                  q(root / "tiny.toml") + " --out " + q(root / "runs"));
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("two plugins are named 'mlp': " ABLATE_BUILD_DIR
                                       "/lib/ablate/plugins/mlp.so and " +
                                       (installed_plugins / "mlp.so").string()));
  CHECK_THAT(r.output, Catch::Contains("using the first"));
  CHECK_THAT(r.output, Catch::Contains("done in"));
  // Each run records the plugin file it used: the build tree's.
  const std::string manifest = read_text(run_dir_of(r) / "manifest.json");
  CHECK_THAT(manifest, Catch::Contains(ABLATE_BUILD_DIR "/lib/ablate/plugins/mlp.so"));
  CHECK_THAT(manifest, !Catch::Contains(installed.string()));
}

TEST_CASE("the tutorial of docs/PLUGINS.md runs as written, to its verdicts", "[sdk]") {
  // The docs' own blocks, in order: `sh tutorial` blocks are commands, `file=PATH` blocks are
  // files written at that point, `text verdicts` is what the last command must print.
  const auto blocks = fenced_blocks(read_text(ABLATE_SOURCE_DIR "/docs/PLUGINS.md"));
  std::string script = "set -euo pipefail\n", verdicts;
  int commands = 0, files = 0;
  for (const Block& block : blocks) {
    if (block.info == "sh tutorial") {
      script += block.text;
      ++commands;
    } else if (const auto at = block.info.find(" file="); at != std::string::npos) {
      const std::string path = block.info.substr(at + 6);
      script += "cat > '" + path + "' <<'ABLATE_TUTORIAL_EOF'\n" + block.text + "ABLATE_TUTORIAL_EOF\n";
      ++files;
    } else if (block.info == "text verdicts") {
      verdicts = block.text;
    }
  }
  REQUIRE(commands >= 5);
  REQUIRE(files == 2);
  REQUIRE(!verdicts.empty());

  // The user's world: a home folder of their own, and a checkout whose build/ is this build.
  TempDir root("ablate-tutorial");
  fs::create_directories(root / "home");
  fs::create_directories(root / "checkout");
  fs::create_directory_symlink(ABLATE_BUILD_DIR, root / "checkout/build");
  write_text(root / "tutorial.sh", script);
  const auto r = run_command("cd " + q(root / "checkout") + " && HOME=" + q(root / "home") + " " +
                             kClean + "PATH=" + q(fs::path(ABLATE_CMAKE).parent_path()) +
                             ":/usr/bin:/bin bash " + q(root / "tutorial.sh"));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  std::istringstream lines(verdicts);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) CHECK_THAT(r.output, Catch::Contains(line));
  CHECK(fs::exists(root / "home/research/l2_anchor/build/l2_anchor.so"));
  CHECK(fs::exists(root / "home/ablate/lib/ablate/plugins/ewc.so"));
}
