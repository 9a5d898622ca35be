// Defaults filled in, the resolved TOML and its round trip, the host's own declarations.
#include "config/location.hpp"
#include "config/suggest.hpp"
#include "config/values.hpp"
#include "test_config_fixture.hpp"

using namespace cfgtest;
using Catch::Matchers::Contains;

namespace {

void check_same(const ablate::Experiment& a, const ablate::Experiment& b) {
  CHECK(a.name == b.name);
  CHECK(a.experiment.values() == b.experiment.values());
  CHECK(a.split.values() == b.split.values());
  CHECK(a.tasks.values() == b.tasks.values());
  CHECK(a.train.values() == b.train.values());
  CHECK(a.plugin_paths == b.plugin_paths);
  auto same_choice = [](const ablate::PluginChoice& x, const ablate::PluginChoice& y) {
    CHECK(x.kind == y.kind);
    CHECK(x.section == y.section);
    CHECK(x.plugin == y.plugin);
    CHECK(x.params.values() == y.params.values());
  };
  REQUIRE(a.datasets.size() == b.datasets.size());
  for (std::size_t i = 0; i < a.datasets.size(); ++i) same_choice(a.datasets[i], b.datasets[i]);
  same_choice(a.topology, b.topology);
  same_choice(a.orderer, b.orderer);
  REQUIRE(a.capacity.has_value() == b.capacity.has_value());
  if (a.capacity) same_choice(*a.capacity, *b.capacity);
  REQUIRE(a.regularizers.size() == b.regularizers.size());
  for (std::size_t i = 0; i < a.regularizers.size(); ++i)
    same_choice(a.regularizers[i], b.regularizers[i]);
  CHECK(a.resolved_toml == b.resolved_toml);
}

}  // namespace

TEST_CASE("every undeclared key takes its declared default", "[config]") {
  TempDir dir;
  const auto experiment = load(dir.write("d.toml", valid_experiment()));
  for (const auto& [section, field] : {std::pair{"experiment", &ablate::Experiment::experiment},
                                       std::pair{"split", &ablate::Experiment::split},
                                       std::pair{"tasks", &ablate::Experiment::tasks},
                                       std::pair{"train", &ablate::Experiment::train}}) {
    for (const auto& spec : ablate::host_sections().at(section)) {
      INFO(section << "." << spec.name);
      REQUIRE((experiment.*field).has(spec.name));
      if (spec.default_value && spec.name != "plugin_paths")
        CHECK((experiment.*field).values().at(spec.name) == *spec.default_value);
    }
  }
  CHECK(experiment.train.real("lr") == 0.05);
  CHECK(experiment.train.string("optimizer") == "sgd");
  CHECK(experiment.split.boolean("stratified"));
  CHECK(experiment.tasks.string("mode") == "single");
  CHECK(experiment.experiment.integer("seed") == 1);
  CHECK(experiment.topology.params.integers("widths") == std::vector<std::int64_t>{16});
  CHECK(experiment.topology.params.string("init") == "he");
  CHECK(experiment.datasets[0].params.integer("samples") == 40);
  CHECK_FALSE(experiment.capacity);
  CHECK(experiment.regularizers.empty());
}

TEST_CASE("without [orderer] the experiment takes the `all` orderer", "[config]") {
  TempDir dir;
  std::string text = valid_experiment();
  text.erase(text.find("\n[orderer]"));
  const auto file = dir.write("no_orderer.toml", text);
  ablate::Registry registry;
  registry.scan(ablate::Registry::search_path());
  if (const ablate::PluginEntry* all = registry.find(ablate::Kind::orderer, "all")) {
    const auto experiment = load(file);
    CHECK(experiment.orderer.plugin == "all");
    CHECK(experiment.orderer.section == "orderer");
    CHECK(experiment.orderer.where.str() == file.string());
    CHECK(experiment.orderer.params.values().size() == all->info->params.size());
  } else {
    // The build's `all` plugin is not built yet: the default must be named in the error.
    const auto error = load_error(file);
    CHECK_THAT(error.what(), Contains("orderer.plugin (the default without [orderer]) = \"all\""));
  }
}

TEST_CASE("the resolved TOML loads back into the same experiment", "[config]") {
  TempDir dir;
  dir.write("configs/train.toml", "[train]\nepochs = 4\noptimizer = \"adam\"\n");
  const std::string text = valid_experiment();
  const auto file = dir.write("exp/main.toml",
                              "[experiment]\ninclude = [\"../configs/train.toml\"]\ndescription = "
                              "\"quote \\\" and \\\\\"\n" +
                                  text.substr(text.find('\n') + 1) +
                                  "\n[capacity]\nplugin = \"cfg_last\"\n"
                                  "\n[[regularizer]]\nplugin = \"cfg_l2\"\nweight = 0.25\n"
                                  "\n[split]\nval_fraction = 0\n");
  const auto first = load(file, {"topology.widths=[8, 8]", "train.lr=1", "topology.tags=[\"a b\"]",
                                 "experiment.seeds=[1, 2, 3]"});
  CHECK_THAT(first.resolved_toml, !Contains("include ="));
  CHECK_THAT(first.resolved_toml, Contains("[[regularizer]]") && Contains("[capacity]") &&
                                      Contains("lr = 1.0") && Contains("epochs = 4"));
  CHECK(first.experiment.string("description") == "quote \" and \\");

  const auto resolved = dir.write("run/config.toml", first.resolved_toml);
  const auto second = load(resolved);
  check_same(first, second);
  CHECK(second.train.string("optimizer") == "adam");
  CHECK(second.topology.params.strings("tags") == std::vector<std::string>{"a b"});
  CHECK(second.experiment.integers("seeds") == std::vector<std::int64_t>{1, 2, 3});
  for (const auto& path : second.plugin_paths) CHECK(path.is_absolute());
}

TEST_CASE("the host's declarations are documented and their defaults are valid", "[config]") {
  for (const auto& [section, specs] : ablate::host_sections()) {
    for (const auto& spec : specs) {
      INFO(section << "." << spec.name);
      CHECK_FALSE(spec.doc.empty());
      if (spec.default_value)
        CHECK_NOTHROW(
            ablate::check_allowed(*spec.default_value, spec, section + "." + spec.name, ""));
    }
  }
  CHECK(ablate::host_param("train", "lr").describe_allowed() == "real in (0, 100]");

  // A plugin's declaration is checked too: its bugs are not reported as the user's.
  CHECK_NOTHROW(ablate::check_default(ablate::integer("n", 3, 1, 5, ""), "[x]"));
  CHECK_THROWS_WITH(ablate::check_default(ablate::integer("n", 9, 1, 5, ""), "[x] of plugin 'p'"),
                    Contains("[x] of plugin 'p' declares parameter 'n' with default 9, outside "
                             "its own range: integer in [1, 5]"));
  ablate::ParamSpec mistyped = ablate::real("r", 0.5, 0, 1, "");
  mistyped.type = ablate::ParamType::integer;
  CHECK_THROWS_WITH(ablate::check_default(mistyped, "p"), Contains("which is not an integer"));
  CHECK(ablate::host_param("train", "momentum").describe_allowed() == "real in [0, 1)");
  CHECK_THROWS_AS(ablate::host_param("train", "nope"), ablate::Error);
}

TEST_CASE("suggestions pick the closest name within a third of its length", "[config]") {
  CHECK(ablate::edit_distance("train", "trian") == 1);
  CHECK(ablate::edit_distance("", "abc") == 3);
  CHECK(ablate::edit_distance("kitten", "sitting") == 3);
  const std::vector<std::string> keys{"epochs", "lr", "batch_size", "momentum"};
  CHECK(ablate::closest_match("lrr", keys) == "lr");
  CHECK(ablate::closest_match("batchsize", keys) == "batch_size");
  CHECK(ablate::closest_match("MOMENTUM", keys) == "momentum");
  CHECK_FALSE(ablate::closest_match("optimizer", keys));
  CHECK(ablate::closest_match("mom", keys) == "momentum");  // an abbreviation
  CHECK_FALSE(ablate::closest_match("ba", keys));           // too short to be one
  CHECK(ablate::did_you_mean("epoch", keys) == " did you mean 'epochs'?");
  CHECK(ablate::did_you_mean("zzz", keys).empty());
}

TEST_CASE("locations from overrides carry no line", "[config]") {
  ablate::Location file{"a.toml", 3, 7};
  CHECK(file.str() == "a.toml:3:7");
  CHECK(ablate::Location{"a.toml"}.str() == "a.toml");
  auto parsed = toml::parse("v = 1", std::string_view("--set train.lr"));
  CHECK(ablate::location_of(*parsed.get("v")).str() == "--set train.lr");
}
