// Every class of bad experiment input yields a ConfigError naming the file, line and key.
#include "ablate/topology.hpp"
#include "test_config_fixture.hpp"

using namespace cfgtest;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

/// The valid experiment with `extra` appended.
std::string with(const std::string& extra) { return valid_experiment() + extra; }

/// The valid experiment with the first occurrence of `from` replaced by `to`.
std::string replaced(const std::string& from, const std::string& to) {
  std::string text = valid_experiment();
  const auto pos = text.find(from);
  REQUIRE(pos != std::string::npos);
  return text.replace(pos, from.size(), to);
}

}  // namespace

TEST_CASE("the valid base experiment loads", "[config]") {
  TempDir dir;
  const auto experiment = load(dir.write("ok.toml", valid_experiment()));
  CHECK(experiment.name == "t");
  CHECK(experiment.topology.plugin == "cfg_net");
  CHECK(experiment.topology.params.integer("depth") == 2);
  CHECK(experiment.orderer.plugin == "cfg_repeat");
  REQUIRE(experiment.datasets.size() == 1);
  CHECK(experiment.datasets[0].section == "dataset");
}

TEST_CASE("a TOML syntax error reports file:line:col", "[config]") {
  TempDir dir;
  const std::string text = with("\n[train]\nlr = = 0.1\n");
  const auto file = dir.write("syntax.toml", text);
  const auto error = load_error(file);
  CHECK_THAT(error.what(), StartsWith("TOML syntax error"));
  const std::string line = at(file, text, "lr = =");
  CHECK_THAT(error.where(), StartsWith(line.substr(0, line.rfind(':') + 1)));
}

TEST_CASE("a missing experiment file is named", "[config]") {
  TempDir dir;
  const auto error = load_error(dir.path() / "absent.toml");
  CHECK_THAT(error.what(), Contains("absent.toml") && Contains("no such file"));
  CHECK(error.where() == (dir.path() / "absent.toml").string());
}

TEST_CASE("an unknown section suggests the closest one", "[config]") {
  TempDir dir;
  const std::string text = with("\n[trian]\nlr = 0.1\n");
  const auto file = dir.write("section.toml", text);
  const auto error = load_error(file);
  CHECK_THAT(error.what(), Contains("unknown section [trian]") &&
                               Contains("did you mean 'train'?") && Contains("topology"));
  CHECK(error.where() == at(file, text, "trian"));
}

TEST_CASE("a key outside any section says where it belongs", "[config]") {
  TempDir dir;
  const std::string text = "epochs = 3\n" + valid_experiment();
  const auto file = dir.write("root.toml", text);
  const auto error = load_error(file);
  CHECK_THAT(error.what(), Contains("'epochs' is outside any section") && Contains("[train]"));
  CHECK(error.where() == at(file, text, "epochs"));
}

TEST_CASE("an unknown key suggests the closest one and lists the valid keys", "[config]") {
  TempDir dir;
  const std::string text = with("\n[train]\nepochs = 2\nlrr = 0.1\n");
  const auto file = dir.write("key.toml", text);
  const auto error = load_error(file);
  CHECK_THAT(error.what(), Contains("unknown key 'train.lrr'") && Contains("did you mean 'lr'?") &&
                               Contains("batch_size") && Contains("checkpoint_every"));
  CHECK(error.where() == at(file, text, "lrr"));
}

TEST_CASE("a host key in another section points to its own section", "[config]") {
  TempDir dir;
  const std::string text = with("epochs = 3\n");  // lands in [orderer], the last section
  const auto file = dir.write("misplaced.toml", text);
  const auto error = load_error(file);
  CHECK_THAT(error.what(),
             StartsWith("unknown key 'orderer.epochs'") &&
                 Contains("'epochs' is a key of [train]") &&
                 Contains("valid keys in [orderer] of plugin 'cfg_repeat': plugin, repeat"));
  CHECK(error.where() == at(file, text, "epochs"));
}

TEST_CASE("an unknown plugin parameter is reported with the plugin's keys", "[config]") {
  TempDir dir;
  const std::string text = replaced("depth = 2\n", "depth = 2\nactivaton = \"tanh\"\n");
  const auto file = dir.write("plugin_key.toml", text);
  const auto error = load_error(file);
  CHECK_THAT(error.what(), Contains("unknown key 'topology.activaton'") &&
                               Contains("did you mean 'activation'?") && Contains("cfg_net") &&
                               Contains("widths"));
  CHECK(error.where() == at(file, text, "activaton"));
}

TEST_CASE("a wrong type names the key, the expected and the given type", "[config]") {
  TempDir dir;
  SECTION("a string for a real") {
    const std::string text = with("\n[train]\nlr = \"fast\"\n");
    const auto file = dir.write("type.toml", text);
    const auto error = load_error(file);
    CHECK_THAT(error.what(), StartsWith("train.lr: expected a real, got string"));
    CHECK(error.where() == at(file, text, "\"fast\""));
  }
  SECTION("a real for an integer") {
    const std::string text = replaced("depth = 2", "depth = 2.5");
    const auto file = dir.write("type.toml", text);
    const auto error = load_error(file);
    CHECK_THAT(error.what(), StartsWith("topology.depth: expected an integer, got real 2.5"));
    CHECK(error.where() == at(file, text, "2.5"));
  }
  SECTION("a string for a list of strings") {
    const std::string text = replaced("depth = 2", "depth = 2\ntags = \"one\"");
    const auto file = dir.write("type.toml", text);
    const auto error = load_error(file);
    CHECK_THAT(error.what(), StartsWith("topology.tags: expected a list of strings, got string"));
    CHECK(error.where() == at(file, text, "\"one\""));
  }
  SECTION("a bad element of a list is located at the element") {
    const std::string text = replaced("depth = 2", "depth = 2\nwidths = [8, \"wide\"]");
    const auto file = dir.write("type.toml", text);
    const auto error = load_error(file);
    CHECK_THAT(error.what(), StartsWith("topology.widths[1]: expected an integer, got string"));
    CHECK(error.where() == at(file, text, "\"wide\""));
  }
  SECTION("a value for a section") {
    const std::string text = "train = 3\n" + valid_experiment();
    const auto file = dir.write("type.toml", text);
    const auto error = load_error(file);
    CHECK_THAT(error.what(), Contains("'train' must be a section [train]"));
    CHECK(error.where() == at(file, text, "train = 3"));
  }
}

TEST_CASE("integers are accepted for reals", "[config]") {
  TempDir dir;
  const auto experiment = load(dir.write("int.toml", with("\n[train]\nlr = 1\n")));
  CHECK(experiment.train.real("lr") == 1.0);
}

TEST_CASE("a value out of range states the range", "[config]") {
  TempDir dir;
  SECTION("an exclusive lower bound") {
    const std::string text = with("\n[train]\nlr = -1\n");
    const auto file = dir.write("range.toml", text);
    const auto error = load_error(file);
    CHECK(std::string(error.what()) == "train.lr = -1 is out of range: real in (0, 100]");
    CHECK(error.where() == at(file, text, "-1"));
  }
  SECTION("zero where it is excluded") {
    const std::string text = with("\n[train]\nlr = 0.0\n");
    const auto error = load_error(dir.write("range.toml", text));
    CHECK_THAT(error.what(), Contains("out of range: real in (0, 100]"));
  }
  SECTION("an exclusive upper bound") {
    const std::string text = with("\n[train]\nmomentum = 1.0\n");
    const auto error = load_error(dir.write("range.toml", text));
    CHECK_THAT(error.what(), Contains("train.momentum = 1.0 is out of range: real in [0, 1)"));
  }
  SECTION("an element of a plugin's list") {
    const std::string text = replaced("depth = 2", "depth = 2\nwidths = [16, 0]");
    const auto file = dir.write("range.toml", text);
    const auto error = load_error(file);
    CHECK_THAT(error.what(),
               StartsWith("topology.widths[1] = 0 is out of range: integer in [1, 4096]"));
    CHECK(error.where() == at(file, text, "0]"));
  }
  SECTION("nan is in no range") {
    const std::string text = with("\n[split]\nval_fraction = nan\n");
    const auto error = load_error(dir.write("range.toml", text));
    CHECK_THAT(error.what(), Contains("split.val_fraction = nan is out of range"));
  }
}

TEST_CASE("a value that is not one of the choices lists them", "[config]") {
  TempDir dir;
  const std::string text = with("\n[train]\noptimizer = \"adamm\"\n");
  const auto file = dir.write("choice.toml", text);
  const auto error = load_error(file);
  CHECK(std::string(error.what()) ==
        "train.optimizer = \"adamm\" is not one of: sgd, adam, adamw; did you mean 'adam'?");
  CHECK(error.where() == at(file, text, "\"adamm\""));
}

TEST_CASE("a missing required parameter is located at its section", "[config]") {
  TempDir dir;
  SECTION("a plugin's") {
    const std::string text = replaced("depth = 2\n", "");
    const auto file = dir.write("required.toml", text);
    const auto error = load_error(file);
    CHECK_THAT(error.what(),
               StartsWith("topology.depth is required") && Contains("integer in [1, 8]"));
    CHECK(error.where() == at(file, text, "topology]"));
  }
  SECTION("the host's") {
    const std::string text = replaced("name = \"t\"\n", "");
    const auto file = dir.write("required.toml", text);
    const auto error = load_error(file);
    CHECK_THAT(error.what(), StartsWith("experiment.name is required"));
    CHECK(error.where() == at(file, text, "experiment]"));
  }
  SECTION("a required plugin section") {
    const std::string text = replaced("[topology]\nplugin = \"cfg_net\"\ndepth = 2\n", "");
    const auto file = dir.write("required.toml", text);
    const auto error = load_error(file);
    CHECK_THAT(error.what(), StartsWith("missing section [topology]") && Contains("cfg_net"));
    CHECK(error.where() == file.string());
  }
  SECTION("a section's plugin key") {
    const std::string text = replaced("plugin = \"cfg_net\"\n", "");
    const auto file = dir.write("required.toml", text);
    const auto error = load_error(file);
    CHECK_THAT(error.what(), StartsWith("topology.plugin is required") && Contains("cfg_net"));
    CHECK(error.where() == at(file, text, "topology]"));
  }
}

TEST_CASE("an unknown plugin lists the plugins of its kind", "[config]") {
  TempDir dir;
  const std::string text = replaced("\"cfg_net\"", "\"cfg_nett\"");
  const auto file = dir.write("plugin.toml", text);
  const auto error = load_error(file);
  CHECK_THAT(error.what(),
             StartsWith("topology.plugin = \"cfg_nett\": there is no topology plugin") &&
                 Contains("did you mean 'cfg_net'?") && Contains("topology plugins: ") &&
                 Contains("cfg_net"));
  CHECK_THAT(error.what(), !Contains("cfg_repeat"));
  CHECK(error.where() == at(file, text, "\"cfg_nett\""));
}

TEST_CASE("a plugin in the wrong role names both kinds", "[config]") {
  TempDir dir;
  const std::string text = replaced("\"cfg_repeat\"", "\"cfg_net\"");
  const auto file = dir.write("role.toml", text);
  const auto error = load_error(file);
  CHECK_THAT(error.what(), StartsWith("orderer.plugin: 'cfg_net' is a topology, not an orderer") &&
                               Contains("cfg_repeat"));
  CHECK(error.where() == at(file, text, "\"cfg_net\"", 2));
}

TEST_CASE("arrays of tables are located and named by index", "[config]") {
  TempDir dir;
  SECTION("an error in the second [[regularizer]]") {
    const std::string text = with(
        "\n[[regularizer]]\nplugin = \"cfg_l2\"\nweight = 0.1\n"
        "\n[[regularizer]]\nplugin = \"cfg_l2\"\nwieght = 0.2\n");
    const auto file = dir.write("array.toml", text);
    const auto error = load_error(file);
    CHECK_THAT(error.what(), StartsWith("unknown key 'regularizer[1].wieght'") &&
                                 Contains("did you mean 'weight'?"));
    CHECK(error.where() == at(file, text, "wieght"));
  }
  SECTION("a required key missing in the first") {
    const std::string text = with("\n[[regularizer]]\nplugin = \"cfg_l2\"\n");
    const auto file = dir.write("array.toml", text);
    const auto error = load_error(file);
    CHECK_THAT(error.what(), StartsWith("regularizer[0].weight is required"));
    CHECK(error.where() == at(file, text, "[[regularizer]]"));
  }
  SECTION("two regularizers load in order") {
    const auto experiment = load(
        dir.write("array.toml", with("\n[[regularizer]]\nplugin = \"cfg_l2\"\nweight = 0.1\n"
                                     "\n[[regularizer]]\nplugin = \"cfg_l2\"\nweight = 0.2\n")));
    REQUIRE(experiment.regularizers.size() == 2);
    CHECK(experiment.regularizers[1].section == "regularizer[1]");
    CHECK(experiment.regularizers[1].params.real("weight") == 0.2);
    CHECK(experiment.regularizers[1].kind == ablate::Kind::regularizer);
  }
  SECTION("a role that takes one plugin refuses several") {
    const std::string text = replaced("[topology]\nplugin = \"cfg_net\"\ndepth = 2\n",
                                      "[[topology]]\nplugin = \"cfg_net\"\ndepth = "
                                      "2\n[[topology]]\nplugin = \"cfg_net\"\ndepth = 3\n");
    const auto file = dir.write("array.toml", text);
    const auto error = load_error(file);
    CHECK_THAT(error.what(), StartsWith("only one [topology] table is allowed, found 2"));
    CHECK(error.where() == at(file, text, "topology]"));
  }
}

TEST_CASE("several datasets need a task mode that uses them", "[config]") {
  TempDir dir;
  const std::string second = "\n[[dataset]]\nplugin = \"cfg_blobs\"\nclasses = 3\n";
  const std::string two_datasets = replaced("[dataset]\nplugin = \"cfg_blobs\"\n",
                                            "[[dataset]]\nplugin = \"cfg_blobs\"\n" + second);
  SECTION("single mode refuses two") {
    const auto file = dir.write("tasks.toml", two_datasets);
    const auto error = load_error(file);
    CHECK_THAT(error.what(), StartsWith("2 [[dataset]] tables need tasks.mode = \"sequence\""));
    CHECK(error.where() == at(file, two_datasets, "[[dataset]]", 2));
  }
  SECTION("sequence mode takes them in order") {
    const auto experiment =
        load(dir.write("tasks.toml", two_datasets + "\n[tasks]\nmode = \"sequence\"\n"));
    REQUIRE(experiment.datasets.size() == 2);
    CHECK(experiment.datasets[1].params.integer("classes") == 3);
    CHECK(experiment.datasets[0].section == "dataset[0]");
  }
  SECTION("joint mode refuses one") {
    const std::string text = with("\n[tasks]\nmode = \"joint\"\n");
    const auto file = dir.write("tasks.toml", text);
    const auto error = load_error(file);
    CHECK_THAT(error.what(), StartsWith("tasks.mode = \"joint\" needs two or more"));
    CHECK(error.where() == at(file, text, "\"joint\""));
  }
}

TEST_CASE("cross-key checks of [train] and [experiment]", "[config]") {
  TempDir dir;
  SECTION("Nesterov without momentum") {
    const std::string text = with("\n[train]\nmomentum = 0\nnesterov = true\n");
    const auto file = dir.write("train.toml", text);
    const auto error = load_error(file);
    CHECK_THAT(error.what(), Contains("train.nesterov = true needs train.momentum > 0"));
    CHECK(error.where() == at(file, text, "true"));
  }
  SECTION("a name that cannot be a folder") {
    const std::string text = replaced("\"t\"", "\"a/b\"");
    const auto file = dir.write("name.toml", text);
    const auto error = load_error(file);
    CHECK_THAT(error.what(), Contains("cannot name a folder"));
    CHECK(error.where() == at(file, text, "\"a/b\""));
  }
  SECTION("a plugin folder that does not exist") {
    const std::string text = replaced("plugin_paths = [", "plugin_paths = [\"missing\", ");
    const auto file = dir.write("paths.toml", text);
    const auto error = load_error(file);
    CHECK_THAT(error.what(), StartsWith("experiment.plugin_paths[0]") &&
                                 Contains((dir.path() / "missing").string()) &&
                                 Contains("is not a folder"));
    CHECK(error.where() == at(file, text, "\"missing\""));
  }
}

TEST_CASE("a [capacity] section is refused for a topology without capacity", "[config]") {
  TempDir dir;
  const std::string text = with("\n[capacity]\nplugin = \"cfg_last\"\n");
  const auto file = dir.write("capacity.toml", text);
  const auto experiment = load(file);
  REQUIRE(experiment.capacity);
  CHECK(experiment.capacity->where.str() == at(file, text, "capacity]"));
  CHECK(experiment.capacity->params.real("max_factor") == 10.0);

  ablate::Registry registry;
  registry.scan({kPluginFolders.begin(), kPluginFolders.end()});
  auto topology = registry.create<ablate::Topology>(ablate::Kind::topology, "cfg_net",
                                                    experiment.topology.params);
  try {
    ablate::check_capacity_use(experiment, topology->uses_capacity());
    FAIL("a [capacity] section passed with a topology that does not use it");
  } catch (const ablate::ConfigError& error) {
    CHECK_THAT(error.what(),
               Contains("[capacity]") && Contains("cfg_net") && Contains("does not use capacity"));
    CHECK(error.where() == at(file, text, "capacity]"));
  }

  const auto aware =
      load(dir.write("aware.toml", replaced("depth = 2", "depth = 2\ncapacity_aware = true") +
                                       "\n[capacity]\nplugin = \"cfg_last\"\n"));
  auto aware_topology =
      registry.create<ablate::Topology>(ablate::Kind::topology, "cfg_net", aware.topology.params);
  CHECK_NOTHROW(ablate::check_capacity_use(aware, aware_topology->uses_capacity()));
}
