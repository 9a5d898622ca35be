// [experiment] include: relative paths, nesting, deep merge, cycles.
#include "test_config_fixture.hpp"

using namespace cfgtest;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

TEST_CASE("includes are relative to the including file, nest, and merge deeply", "[config]") {
  TempDir dir;
  // experiments/main.toml -> ../configs/model.toml -> parts/train.toml
  dir.write("configs/parts/train.toml", "[train]\nepochs = 3\nlr = 0.3\nbatch_size = 64\n");
  dir.write(
      "configs/model.toml",
      "[experiment]\ninclude = [\"parts/train.toml\"]\n"
      "\n[topology]\nplugin = \"cfg_net\"\ndepth = 4\nwidths = [1, 2, 3]\nactivation = \"tanh\"\n"
      "\n[train]\nbatch_size = 32\n");
  const auto file =
      dir.write("experiments/main.toml",
                "[experiment]\nname = \"inc\"\ninclude = [\"../configs/model.toml\"]\n" +
                    plugin_paths_line() +
                    "\n[dataset]\nplugin = \"cfg_blobs\"\n"
                    "\n[topology]\nwidths = [4]\n"
                    "\n[orderer]\nplugin = \"cfg_repeat\"\n"
                    "\n[train]\nlr = 0.2\n");
  const auto experiment = load(file);
  CHECK(experiment.train.integer("epochs") == 3);       // only the innermost file sets it
  CHECK(experiment.train.integer("batch_size") == 32);  // the including file beats its include
  CHECK(experiment.train.real("lr") == 0.2);            // the top file beats everything
  CHECK(experiment.topology.plugin == "cfg_net");
  CHECK(experiment.topology.params.integer("depth") == 4);
  CHECK(experiment.topology.params.string("activation") == "tanh");
  CHECK(experiment.topology.params.integers("widths") ==
        std::vector<std::int64_t>{4});  // arrays replace
  CHECK(experiment.experiment.strings("include").empty());
}

TEST_CASE("later includes win over earlier ones", "[config]") {
  TempDir dir;
  dir.write("a.toml", "[train]\nepochs = 1\nlr = 0.1\n");
  dir.write("b.toml", "[train]\nepochs = 2\n");
  const auto experiment = load(dir.write(
      "main.toml", "[experiment]\nname = \"x\"\ninclude = [\"a.toml\", \"b.toml\"]\n" +
                       plugin_paths_line() +
                       valid_experiment().substr(valid_experiment().find("\n[dataset]"))));
  CHECK(experiment.train.integer("epochs") == 2);
  CHECK(experiment.train.real("lr") == 0.1);
}

TEST_CASE("an error in an included file is located in that file", "[config]") {
  TempDir dir;
  const std::string included = "[train]\nepochs = 2\nbatchsize = 8\n";
  const auto part = dir.write("configs/train.toml", included);
  const auto file =
      dir.write("main.toml", "[experiment]\nname = \"x\"\ninclude = [\"configs/train.toml\"]\n" +
                                 plugin_paths_line());
  const auto error = load_error(file);
  CHECK_THAT(error.what(),
             StartsWith("unknown key 'train.batchsize'") && Contains("did you mean 'batch_size'?"));
  CHECK(error.where() == at(part, included, "batchsize"));
}

TEST_CASE("plugin_paths are relative to the file that names them", "[config]") {
  TempDir dir;
  fs::create_directories(dir.path() / "configs" / "plugins");
  dir.write("configs/paths.toml", "[experiment]\nplugin_paths = [\"plugins\"]\n");
  const auto file =
      dir.write("main.toml", "[experiment]\nname = \"x\"\ninclude = [\"configs/paths.toml\"]\n" +
                                 valid_experiment().substr(valid_experiment().find("\n[dataset]")));
  // The include's plugin_paths replaced the base's, so the cfgtest plugins are gone.
  const auto error = load_error(file);
  CHECK_THAT(error.what(), Contains("no dataset plugin"));
  // Resolved against configs/, not against main.toml's folder: a missing folder would have
  // been reported instead.
  dir.write("configs/paths.toml",
            "[experiment]\nplugin_paths = [\"plugins\", " +
                plugin_paths_line().substr(plugin_paths_line().find('[') + 1));
  const auto experiment = load(file);
  REQUIRE_FALSE(experiment.plugin_paths.empty());
  CHECK(experiment.plugin_paths.front() == fs::absolute(dir.path() / "configs" / "plugins"));
  CHECK(experiment.plugin_paths.front().is_absolute());
}

TEST_CASE("an include cycle is reported with the chain of files", "[config]") {
  TempDir dir;
  const std::string b_text = "[experiment]\ninclude = [\"a.toml\"]\n";
  const auto a = dir.write("a.toml", "[experiment]\nname = \"x\"\ninclude = [\"sub/b.toml\"]\n");
  const auto b = dir.write("sub/b.toml", "[experiment]\ninclude = [\"../a.toml\"]\n");
  const auto error = load_error(a);
  CHECK_THAT(error.what(),
             StartsWith("include cycle: ") && Contains("a.toml -> ") && Contains("sub/b.toml -> "));
  CHECK(error.where() == at(b, "[experiment]\ninclude = [\"../a.toml\"]\n", "\"../a.toml\""));

  SECTION("a file including itself") {
    const std::string text = "[experiment]\nname = \"x\"\ninclude = [\"self.toml\"]\n";
    const auto self = dir.write("self.toml", text);
    const auto self_error = load_error(self);
    CHECK_THAT(self_error.what(), StartsWith("include cycle: "));
    CHECK(self_error.where() == at(self, text, "\"self.toml\""));
  }
}

TEST_CASE("the same file included twice along two paths is no cycle", "[config]") {
  TempDir dir;
  dir.write("common.toml", "[train]\nepochs = 7\n");
  dir.write("left.toml", "[experiment]\ninclude = [\"common.toml\"]\n");
  dir.write("right.toml", "[experiment]\ninclude = [\"common.toml\"]\n");
  const auto experiment = load(dir.write(
      "main.toml", "[experiment]\nname = \"x\"\ninclude = [\"left.toml\", \"right.toml\"]\n" +
                       plugin_paths_line() +
                       valid_experiment().substr(valid_experiment().find("\n[dataset]"))));
  CHECK(experiment.train.integer("epochs") == 7);
}

TEST_CASE("a missing or malformed include is located at the include entry", "[config]") {
  TempDir dir;
  SECTION("missing") {
    const std::string text = "[experiment]\nname = \"x\"\ninclude = [\"nowhere.toml\"]\n";
    const auto file = dir.write("main.toml", text);
    const auto error = load_error(file);
    CHECK_THAT(error.what(), Contains("nowhere.toml") && Contains("no such file"));
    CHECK(error.where() == at(file, text, "\"nowhere.toml\""));
  }
  SECTION("a name the file system refuses") {
    // Found by tests/fuzz/fuzz_experiment: a file name too long for the system escaped as a
    // std::filesystem_error, not a located ConfigError.
    const std::string name = std::string(300, 'n') + ".toml";
    const std::string text = "[experiment]\nname = \"x\"\ninclude = [\"" + name + "\"]\n";
    const auto file = dir.write("main.toml", text);
    const auto error = load_error(file);
    CHECK_THAT(error.what(), Contains(name) && Contains("file name too long"));
    CHECK(error.where() == at(file, text, "\"" + name + "\""));
  }
  SECTION("not a list of strings") {
    const std::string text = "[experiment]\nname = \"x\"\ninclude = \"other.toml\"\n";
    const auto file = dir.write("main.toml", text);
    const auto error = load_error(file);
    CHECK_THAT(error.what(), StartsWith("experiment.include: expected a list of strings"));
    CHECK(error.where() == at(file, text, "\"other.toml\""));
  }
  SECTION("a syntax error inside the included file") {
    const std::string included = "[train]\nepochs = \n";
    const auto part = dir.write("bad.toml", included);
    const auto file =
        dir.write("main.toml", "[experiment]\nname = \"x\"\ninclude = [\"bad.toml\"]\n");
    const auto error = load_error(file);
    CHECK_THAT(error.what(), StartsWith("TOML syntax error"));
    CHECK_THAT(error.where(), StartsWith(part.string() + ":2:"));
  }
}
