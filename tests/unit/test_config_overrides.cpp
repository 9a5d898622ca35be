// --set overrides: typed by the declared parameter, located at "--set a.b" when wrong.
#include "test_config_fixture.hpp"

using namespace cfgtest;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

TEST_CASE("parse_override splits path and value", "[config]") {
  const auto plain = ablate::parse_override("train.lr=0.5");
  CHECK(plain.path == "train.lr");
  CHECK(plain.value == "0.5");
  const auto spaced = ablate::parse_override(" topology.widths = [8, 8] ");
  CHECK(spaced.path == "topology.widths");
  CHECK(spaced.value == "[8, 8]");
  CHECK(ablate::parse_override("experiment.description=a=b").value == "a=b");
  for (const char* bad : {"trainlr", "=3", "train.lr="}) {
    try {
      ablate::parse_override(bad);
      FAIL("accepted " << bad);
    } catch (const ablate::ConfigError& error) {
      CHECK_THAT(error.what(), Contains("section.key=value"));
      CHECK(error.where() == std::string("--set ") + bad);
    }
  }
}

TEST_CASE("overrides are typed by the declared parameter", "[config]") {
  TempDir dir;
  const auto file = dir.write("o.toml", valid_experiment() + "\n[train]\nlr = 0.1\n");
  const auto experiment =
      load(file, {"train.lr=0.5", "train.epochs=3", "train.nesterov=true",
                  "topology.activation=tanh", "topology.init=\"xavier\"", "topology.widths=[8, 4]",
                  "experiment.name=2024", "topology.scales=[1, 0.5]", "train.optimizer = adam"});
  CHECK(experiment.train.real("lr") == 0.5);
  CHECK(experiment.train.integer("epochs") == 3);
  CHECK(experiment.train.boolean("nesterov"));
  CHECK(experiment.train.string("optimizer") == "adam");
  CHECK(experiment.topology.params.string("activation") == "tanh");
  CHECK(experiment.topology.params.string("init") == "xavier");
  CHECK(experiment.topology.params.integers("widths") == std::vector<std::int64_t>{8, 4});
  CHECK(experiment.topology.params.reals("scales") == std::vector<double>{1.0, 0.5});
  CHECK(experiment.name == "2024");  // a string parameter takes the text as typed
}

TEST_CASE("overrides can add a section and address [[tables]] by index", "[config]") {
  TempDir dir;
  const auto file =
      dir.write("o.toml", valid_experiment() +
                              "\n[[regularizer]]\nplugin = \"cfg_l2\"\nweight = 0.1\n"
                              "\n[[regularizer]]\nplugin = \"cfg_l2\"\nweight = 0.2\n");
  const auto experiment =
      load(file, {"capacity.plugin=cfg_last", "capacity.max_percent=5", "regularizer[1].weight=0.7",
                  "orderer.plugin=cfg_repeat", "orderer.repeat=3"});
  REQUIRE(experiment.capacity);
  CHECK(experiment.capacity->plugin == "cfg_last");
  CHECK(experiment.capacity->params.real("max_percent") == 5.0);
  CHECK(experiment.capacity->where.str() == "--set capacity.plugin");
  CHECK(experiment.regularizers[0].params.real("weight") == 0.1);
  CHECK(experiment.regularizers[1].params.real("weight") == 0.7);
  CHECK(experiment.orderer.params.integer("repeat") == 3);
}

TEST_CASE("a bad override is located at --set a.b", "[config]") {
  TempDir dir;
  const auto file = dir.write(
      "o.toml", valid_experiment() + "\n[[regularizer]]\nplugin = \"cfg_l2\"\nweight = 0.1\n");
  SECTION("an unknown key gets a did-you-mean") {
    const auto error = load_error(file, {"train.lrr=0.1"});
    CHECK_THAT(error.what(),
               StartsWith("unknown key 'train.lrr'") && Contains("did you mean 'lr'?"));
    CHECK(error.where() == "--set train.lrr");
  }
  SECTION("an unknown plugin parameter") {
    const auto error = load_error(file, {"topology.dept=3"});
    CHECK_THAT(error.what(), Contains("did you mean 'depth'?"));
    CHECK(error.where() == "--set topology.dept");
  }
  SECTION("an unknown section") {
    const auto error = load_error(file, {"trian.lr=0.1"});
    CHECK_THAT(error.what(),
               StartsWith("unknown section [trian]") && Contains("did you mean 'train'?"));
    CHECK(error.where() == "--set trian.lr");
  }
  SECTION("a value of the wrong type") {
    const auto error = load_error(file, {"train.lr=abc"});
    CHECK_THAT(error.what(), StartsWith("train.lr: expected a real, got string \"abc\""));
    CHECK(error.where() == "--set train.lr");
  }
  SECTION("a value out of range") {
    const auto error = load_error(file, {"train.batch_size=0"});
    CHECK_THAT(error.what(),
               StartsWith("train.batch_size = 0 is out of range: integer in [1, 65536]"));
    CHECK(error.where() == "--set train.batch_size");
  }
  SECTION("a bare word that is not a choice") {
    const auto error = load_error(file, {"topology.activation=tahn"});
    CHECK_THAT(error.what(),
               Contains("is not one of: relu, tanh, gelu") && Contains("did you mean 'tanh'?"));
    CHECK(error.where() == "--set topology.activation");
  }
  SECTION("an unknown plugin") {
    const auto error = load_error(file, {"topology.plugin=cfg_nte"});
    CHECK_THAT(error.what(), Contains("did you mean 'cfg_net'?"));
    CHECK(error.where() == "--set topology.plugin");
  }
  SECTION("a [[table]] index that does not exist") {
    const auto error = load_error(file, {"regularizer[2].weight=1"});
    CHECK_THAT(error.what(),
               Contains("there are 1 [[regularizer]] tables") && Contains("regularizer[2]"));
    CHECK(error.where() == "--set regularizer[2].weight");
  }
  SECTION("an index into a single table") {
    const auto error = load_error(file, {"topology[0].depth=1"});
    CHECK_THAT(error.what(), Contains("[topology] is a single table: write topology.depth"));
  }
  SECTION("a path that is not section.key") {
    const auto error = load_error(file, {"train.lr.x=1"});
    CHECK_THAT(error.what(), Contains("not a parameter path"));
    CHECK(error.where() == "--set train.lr.x");
  }
  SECTION("includes are not overridable") {
    const auto error = load_error(file, {"experiment.include=[\"x.toml\"]"});
    CHECK_THAT(error.what(), Contains("experiment.include cannot be set from the command line"));
    CHECK(error.where() == "--set experiment.include");
  }
}

TEST_CASE("an override replaces a value from an include and from the file", "[config]") {
  TempDir dir;
  dir.write("base.toml", "[train]\nepochs = 4\n");
  const std::string text = valid_experiment();
  const auto file =
      dir.write("o.toml", "[experiment]\ninclude = [\"base.toml\"]\n" +
                              text.substr(text.find('\n') + 1) + "\n[train]\nlr = 0.3\n");
  const auto experiment = load(file, {"train.epochs=9", "train.lr=0.01"});
  CHECK(experiment.train.integer("epochs") == 9);
  CHECK(experiment.train.real("lr") == 0.01);
}

TEST_CASE("an override that changes a section's plugin drops the old plugin's keys first",
          "[config]") {
  TempDir dir;
  // cfg_repeat takes `repeat`; the build's `all` orderer does not.
  const auto file = dir.write("p.toml", valid_experiment() + "repeat = 3\n");
  CHECK(load(file, {}).orderer.params.integer("repeat") == 3);
  const auto changed = load(file, {"orderer.plugin=all"});
  CHECK(changed.orderer.plugin == "all");
  CHECK_FALSE(changed.orderer.params.has("repeat"));
  // The new plugin's keys apply whatever their order on the command line.
  const auto back = load(file, {"orderer.repeat=5", "orderer.plugin=cfg_repeat"});
  CHECK(back.orderer.params.integer("repeat") == 5);  // same plugin: nothing dropped
  // A key set on the command line is meant for the new plugin: `all` has no `repeat`.
  CHECK_THROWS_WITH(load(file, {"orderer.repeat=5", "orderer.plugin=all"}),
                    Contains("unknown key 'orderer.repeat'") && Contains("plugin 'all'"));
}
