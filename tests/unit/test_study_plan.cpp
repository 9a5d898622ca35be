// Planning studies from experiment files: arms x seeds, grid / zip / random sweeps, and the
// errors of arms, checks and sweeps, located where the file writes them. Real plugins: the
// cfgtest ones and the build's fixed_experts (for the figures a plugin declares).
#include <catch2/catch.hpp>
#include <set>

#include "study/plan.hpp"
#include "study/study_dir.hpp"
#include "support.hpp"
#include "unit/test_config_fixture.hpp"

using Catch::Contains;
using cfgtest::at;
using cfgtest::valid_experiment;
using namespace ablate::study;

namespace {

const std::string kArms =
    "\n[[arm]]\nname = \"base\"\n"
    "\n[[arm]]\nname = \"deep\"\ndescription = \"four layers\"\n"
    "set = { \"topology.depth\" = 4, \"topology.widths\" = [8, 8] }\n"
    "\n[[expect]]\nfinding = \"depth helps\"\ncheck = \"deep.test_accuracy > "
    "base.test_accuracy\"\n";

/// The valid experiment with `seeds` and extra sections.
std::string experiment(const std::string& seeds, const std::string& extra) {
  std::string text = valid_experiment();
  text.insert(text.find("plugin_paths"), "seeds = " + seeds + "\n");
  return text + extra;
}

Study reproduce(const std::filesystem::path& file, const std::vector<ablate::Override>& sets = {}) {
  ablate::Registry registry;
  return plan_reproduce(file, sets, registry);
}

Study sweep(const std::filesystem::path& file) {
  ablate::Registry registry;
  return plan_sweep(file, {}, registry);
}

/// The ConfigError planning `file` throws (reproduce, or sweep).
ablate::ConfigError plan_error(const std::filesystem::path& file, bool sweeping = false) {
  try {
    sweeping ? sweep(file) : reproduce(file);
  } catch (const ablate::ConfigError& error) {
    return error;
  }
  FAIL("planning " << file << " threw no ConfigError");
  throw std::logic_error("unreachable");
}

std::vector<std::string> settings_of(const Study& study) {
  std::vector<std::string> out;
  for (const Trial& trial : study.trials) {
    std::string line = trial.id + ":";
    for (const auto& setting : trial.settings) line += " " + setting.path + "=" + setting.value;
    out.push_back(line);
  }
  return out;
}

}  // namespace

TEST_CASE("plan: arms x seeds, each trial a plain experiment with its arm's values and seed",
          "[study][plan]") {
  cfgtest::TempDir dir;
  const auto file = dir.write("arms.toml", experiment("[1, 2]", kArms));
  const Study study = reproduce(file, {ablate::parse_override("orderer.repeat=3")});
  CHECK(study.kind == StudyKind::reproduce);
  CHECK(study.name == "t");
  CHECK(study.file == std::filesystem::absolute(file));
  CHECK(study.parameters == std::vector<std::string>{"topology.depth", "topology.widths"});
  REQUIRE(study.trials.size() == 4);
  const std::vector<std::string> ids{"base-s1", "base-s2", "deep-s1", "deep-s2"};
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const Trial& trial = study.trials[i];
    CHECK(trial.id == ids[i]);
    CHECK(trial.group == (i < 2 ? "base" : "deep"));
    CHECK(trial.seed == static_cast<std::int64_t>(i % 2 + 1));
    CHECK(trial.settings.size() == (i < 2 ? 0u : 2u));
    for (const char* section : {"[[arm]]", "[[expect]]", "[sweep]", "depth helps", "four layers"})
      CHECK_THAT(trial.config, !Contains(section));
    // The resolved config is an experiment of its own, with the arm's values and its seed.
    const auto config = dir.write(trial.id + ".toml", trial.config);
    const ablate::Experiment loaded = cfgtest::load(config);
    CHECK(loaded.experiment.integer("seed") == trial.seed);
    CHECK(loaded.topology.params.integer("depth") == (i < 2 ? 2 : 4));
    CHECK(loaded.topology.params.integers("widths") ==
          (i < 2 ? std::vector<std::int64_t>{16} : std::vector<std::int64_t>{8, 8}));
    CHECK(loaded.orderer.params.integer("repeat") == 3);  // --set applies to every arm
  }
  CHECK(study.trials[2].settings[0].path == "topology.depth");
  CHECK(study.trials[2].settings[0].value == "4");
  CHECK(study.trials[2].settings[1].value == "[8, 8]");
  REQUIRE(study.expectations.size() == 1);
  CHECK(study.expectations[0].finding == "depth helps");
  CHECK(study.expectations[0].where.str() ==
        at(file, ablate::test::read_text(file), "\"deep.test_accuracy"));
  CHECK(study.expectations[0].check.figures().size() == 2);

  // `ablate run` takes the base experiment: the study sections stay out of its resolved config.
  const ablate::Experiment base = cfgtest::load(file);
  CHECK(base.topology.params.integer("depth") == 2);
  CHECK_THAT(base.resolved_toml, !Contains("[[arm]]") && !Contains("depth helps"));
}

TEST_CASE("plan: no seeds listed -> experiment.seed, nested set tables are dotted paths",
          "[study][plan]") {
  cfgtest::TempDir dir;
  std::string text =
      experiment("[]", "\n[[arm]]\nname = \"a\"\nset = { topology = { depth = 3 } }\n");
  text.replace(text.find("name = \"t\""), 10, "name = \"t\"\nseed = 9");
  const auto file = dir.write("nested.toml", text);
  const Study study = reproduce(file);
  REQUIRE(study.trials.size() == 1);
  CHECK(study.trials[0].id == "a-s9");
  CHECK(study.trials[0].settings[0].path == "topology.depth");
  CHECK_THAT(study.trials[0].config, Contains("depth = 3"));
}

TEST_CASE("plan: arm errors point at the arm in the file", "[study][plan]") {
  cfgtest::TempDir dir;
  SECTION("an unknown key of an arm, at load time too") {
    const std::string text =
        experiment("[1]", "\n[[arm]]\nname = \"a\"\nsett = { \"topology.depth\" = 3 }\n");
    const auto file = dir.write("key.toml", text);
    for (const auto& error : {plan_error(file), cfgtest::load_error(file)}) {
      CHECK(error.where() == at(file, text, "sett"));
      CHECK_THAT(error.what(),
                 Contains("unknown key 'arm[0].sett'") && Contains("did you mean 'set'?"));
    }
  }
  SECTION("a value out of range, at the arm's set entry, naming the arm") {
    const std::string text = experiment("[1, 2]",
                                        "\n[[arm]]\nname = \"base\"\n"
                                        "\n[[arm]]\nname = \"huge\"\n"
                                        "set = { \"topology.depth\" = 99 }\n");
    const auto file = dir.write("value.toml", text);
    const auto error = plan_error(file);
    CHECK(error.where() == at(file, text, "99"));
    CHECK_THAT(error.what(),
               Contains("arm 'huge'") && Contains("topology.depth = 99") && Contains("[1, 8]"));
    CHECK_THAT(error.where(), !Contains("--set"));
  }
  SECTION("an unknown parameter an arm sets, with did-you-mean") {
    const std::string text =
        experiment("[1]", "\n[[arm]]\nname = \"a\"\nset = { \"topology.dept\" = 3 }\n");
    const auto file = dir.write("param.toml", text);
    const auto error = plan_error(file);
    CHECK(error.where() == at(file, text, "3 }"));
    CHECK_THAT(error.what(), Contains("arm 'a'") && Contains("did you mean 'depth'?"));
  }
  SECTION("duplicate arm names, names that are not identifiers, the seed") {
    std::string text = experiment("[1]", "\n[[arm]]\nname = \"a\"\n\n[[arm]]\nname = \"a\"\n");
    auto file = dir.write("twice.toml", text);
    CHECK(plan_error(file).where() == at(file, text, "\"a\"", 2));
    text = experiment("[1]", "\n[[arm]]\nname = \"a-b\"\n");
    file = dir.write("ident.toml", text);
    CHECK_THAT(plan_error(file).what(), Contains("identifier"));
    text = experiment("[1]", "\n[[arm]]\nname = \"a\"\nset = { \"experiment.seed\" = 4 }\n");
    file = dir.write("seed.toml", text);
    CHECK_THAT(plan_error(file).what(), Contains("experiment.seeds"));
    text = experiment("[1, 1]", "\n[[arm]]\nname = \"a\"\n");
    file = dir.write("seeds.toml", text);
    CHECK(plan_error(file).where() == at(file, text, "[1, 1]"));
    CHECK_THAT(plan_error(file).what(), Contains("seed 1 twice"));
  }
  SECTION("no arms at all") {
    const auto file = dir.write("none.toml", experiment("[1]", ""));
    CHECK_THAT(plan_error(file).what(), Contains("no [[arm]]"));
  }
}

TEST_CASE("plan: a check naming an unknown arm or metric is a config error", "[study][plan]") {
  cfgtest::TempDir dir;
  auto with_check = [&](const std::string& name, const std::string& check) {
    const std::string text = experiment("[1]",
                                        "\n[[arm]]\nname = \"base\"\n\n[[arm]]\nname = \"deep\"\n"
                                        "set = { \"topology.depth\" = 4 }\n"
                                        "\n[[expect]]\nfinding = \"f\"\ncheck = \"" +
                                            check + "\"\n");
    const auto file = dir.write(name, text);
    const auto error = plan_error(file);
    CHECK(error.where() == at(file, text, "\"" + check));
    return std::string(error.what());
  };
  CHECK_THAT(with_check("arm.toml", "deap.test_accuracy > base.test_accuracy"),
             Contains("no arm 'deap'") && Contains("did you mean 'deep'?") &&
                 Contains("arms: base, deep"));
  CHECK_THAT(with_check("metric.toml", "deep.test_acuracy > 0.5"),
             Contains("arm 'deep' reports no figure 'test_acuracy'") &&
                 Contains("did you mean 'test_accuracy'?") && Contains("val_loss"));
  CHECK_THAT(with_check("syntax.toml", "deep.test_accuracy >"), Contains("column 21"));
}

TEST_CASE("plan: figures a plugin declares may be checked, others may not", "[study][plan]") {
  cfgtest::TempDir dir;
  std::string text = valid_experiment();
  const std::string net = "plugin = \"cfg_net\"\ndepth = 2";
  text.replace(text.find(net), net.size(), "plugin = \"fixed_experts\"");
  const auto arms =
      "\n[[arm]]\nname = \"fixed\"\n\n[[arm]]\nname = \"grow\"\n"
      "set = { \"topology.grow\" = true }\n\n[[expect]]\nfinding = \"f\"\ncheck = \"";
  auto file = dir.write("ok.toml", text + arms +
                                       "grow.expert_share_3 >= 0 and grow.gate_entropy > "
                                       "fixed.usage_balance\"\n");
  const Study study = reproduce(file);
  CHECK(study.expectations.at(0).check.figures().size() == 3);
  file = dir.write("bad.toml", text + arms + "grow.routing_accuracy > 0\"\n");
  CHECK_THAT(plan_error(file).what(), Contains("reports no figure 'routing_accuracy'") &&
                                          Contains("expert_share_*") && Contains("gate_entropy"));
}

TEST_CASE("plan: grid and zip sweeps", "[study][plan]") {
  cfgtest::TempDir dir;
  SECTION("grid: every combination, the last key fastest, seeds inner") {
    const auto file =
        dir.write("grid.toml", experiment("[1, 2]",
                                          "\n[sweep]\nmode = \"grid\"\n[sweep.keys]\n"
                                          "\"topology.depth\" = [1, 2, 3]\n"
                                          "topology.activation = [\"relu\", \"tanh\"]\n"));
    const Study study = sweep(file);
    CHECK(study.kind == StudyKind::sweep);
    CHECK(study.parameters == std::vector<std::string>{"topology.depth", "topology.activation"});
    REQUIRE(study.trials.size() == 12);
    const auto lines = settings_of(study);
    CHECK(lines[0] == "p000-s1: topology.depth=1 topology.activation=\"relu\"");
    CHECK(lines[1] == "p000-s2: topology.depth=1 topology.activation=\"relu\"");
    CHECK(lines[2] == "p001-s1: topology.depth=1 topology.activation=\"tanh\"");
    CHECK(lines[11] == "p005-s2: topology.depth=3 topology.activation=\"tanh\"");
    CHECK(study.trials[2].group == "topology.depth=1 topology.activation=\"tanh\"");
    CHECK_THAT(study.trials[11].config, Contains("depth = 3") && Contains("\"tanh\"") &&
                                            Contains("seed = 2") && !Contains("[sweep"));
  }
  SECTION("zip: the i-th values together") {
    const auto file = dir.write(
        "zip.toml", experiment("[5]",
                               "\n[sweep]\nmode = \"zip\"\nkeys = { \"topology.depth\" = "
                               "[1, 2, 3], \"topology.widths\" = [[4], [8, 8], [2, 2, 2]] }\n"));
    const auto lines = settings_of(sweep(file));
    CHECK(lines == std::vector<std::string>{"p000-s5: topology.depth=1 topology.widths=[4]",
                                            "p001-s5: topology.depth=2 topology.widths=[8, 8]",
                                            "p002-s5: topology.depth=3 topology.widths=[2, 2, 2]"});
  }
  SECTION("zip lists of different lengths") {
    const std::string text =
        experiment("[1]",
                   "\n[sweep]\nmode = \"zip\"\nkeys = { \"topology.depth\" = [1, 2], "
                   "\"topology.widths\" = [[4], [8], [2]] }\n");
    const auto file = dir.write("zipbad.toml", text);
    for (const auto& error : {plan_error(file, true), cfgtest::load_error(file)}) {
      CHECK(error.where() == at(file, text, "[[4]"));
      CHECK_THAT(error.what(),
                 Contains("topology.depth has 2") && Contains("topology.widths has 3"));
    }
  }
  SECTION("a bad sweep value points at it and names the point") {
    const std::string text = experiment(
        "[1]", "\n[sweep]\nkeys = { \"topology.activation\" = [\"relu\", \"tanhh\"] }\n");
    const auto file = dir.write("badvalue.toml", text);
    const auto error = plan_error(file, true);
    CHECK(error.where() == at(file, text, "\"tanhh\""));
    CHECK_THAT(error.what(), Contains("sweep point p001") && Contains("did you mean 'tanh'?"));
  }
  SECTION("a range outside random, trials outside random, no [sweep]") {
    std::string text = experiment(
        "[1]", "\n[sweep]\nkeys = { \"topology.dropout\" = { min = 0.0, max = 0.5 } }\n");
    auto file = dir.write("range.toml", text);
    CHECK_THAT(plan_error(file, true).what(), Contains("needs mode = \"random\""));
    text = experiment("[1]", "\n[sweep]\ntrials = 37\nkeys = { \"topology.depth\" = [1] }\n");
    file = dir.write("trials.toml", text);
    CHECK(plan_error(file, true).where() == at(file, text, "37"));
    file = dir.write("nosweep.toml", experiment("[1]", ""));
    CHECK_THAT(plan_error(file, true).what(), Contains("no [sweep]"));
  }
}

TEST_CASE("plan: random sweeps draw `trials` points, the same for the same seed", "[study][plan]") {
  cfgtest::TempDir dir;
  auto random_sweep = [&](const std::string& name, int seed) {
    const auto file = dir.write(
        name,
        experiment("[1, 2]",
                   "\n[sweep]\nmode = \"random\"\ntrials = 6\nseed = " + std::to_string(seed) +
                       "\n[sweep.keys]\n"
                       "\"topology.dropout\" = { min = 0.0, max = 0.5 }\n"
                       "\"topology.depth\" = { min = 1, max = 8, integer = true }\n"
                       "\"capacity.max_factor\" = { min = 1, max = 1000, log = true }\n"
                       "\"topology.activation\" = [\"relu\", \"tanh\", \"gelu\"]\n"
                       "\"capacity.plugin\" = [\"cfg_last\"]\n"));
    return sweep(file);
  };
  const Study first = random_sweep("r1.toml", 3);
  REQUIRE(first.trials.size() == 12);
  CHECK(settings_of(first) == settings_of(random_sweep("r2.toml", 3)));
  CHECK(settings_of(first) != settings_of(random_sweep("r3.toml", 4)));
  std::set<std::string> groups;
  for (const Trial& trial : first.trials) {
    groups.insert(trial.group);
    const ablate::Experiment loaded = cfgtest::load(dir.write(trial.id + ".toml", trial.config));
    const double dropout = loaded.topology.params.real("dropout");
    const auto depth = loaded.topology.params.integer("depth");
    const double factor = loaded.capacity->params.real("max_factor");
    CHECK((dropout >= 0 && dropout <= 0.5));
    CHECK((depth >= 1 && depth <= 8));
    CHECK((factor >= 1 && factor <= 1000));
  }
  CHECK(groups.size() == 6);

  // Lists alone with fewer distinct points than trials.
  const std::string text = experiment(
      "[1]", "\n[sweep]\nmode = \"random\"\ntrials = 3\nkeys = { \"topology.depth\" = [1, 2] }\n");
  const auto file = dir.write("few.toml", text);
  CHECK_THAT(plan_error(file, true).what(), Contains("give 2 distinct points"));
}

TEST_CASE("ablate check validates arms and exits 2 at the arm's file:line", "[study][plan]") {
  ablate::test::TempDir dir("ablate-plan-check");
  std::string text = experiment("[1, 2]", kArms);
  ablate::test::write_text(dir / "ok.toml", text);
  auto result = ablate::test::run_ablate("check " + (dir / "ok.toml").string());
  CHECK(result.exit_code == 0);
  CHECK_THAT(result.output, Contains("2 arms, 4 trials, 1 finding)"));
  text.replace(text.find("= 4,"), 4, "= 0,");
  ablate::test::write_text(dir / "bad.toml", text);
  result = ablate::test::run_ablate("check " + (dir / "bad.toml").string());
  CHECK(result.exit_code == 2);
  CHECK_THAT(result.output, Contains(at(dir / "bad.toml", text, "0, \"topology.widths")) &&
                                Contains("arm 'deep'"));
}

TEST_CASE("plan: a [regime] runs every arm at each of its values, values outermost",
          "[study][plan][regime]") {
  cfgtest::TempDir dir;
  const auto file = dir.write(
      "regime.toml", experiment("[1, 2]", kArms + "holds_for = [2]\n"
                                                  "\n[regime]\nkey = \"train.epochs\"\n"
                                                  "values = [2, 3]\n"));
  const Study study = reproduce(file);
  REQUIRE(study.regime);
  CHECK(study.regime->key == "train.epochs");
  CHECK(study.regime->values == std::vector<std::string>{"2", "3"});
  const std::string deep = ": topology.depth=4 topology.widths=[8, 8] train.epochs=";
  CHECK(settings_of(study) ==
        std::vector<std::string>{"base-r0-s1: train.epochs=2", "base-r0-s2: train.epochs=2",
                                 "deep-r0-s1" + deep + "2", "deep-r0-s2" + deep + "2",
                                 "base-r1-s1: train.epochs=3", "base-r1-s2: train.epochs=3",
                                 "deep-r1-s1" + deep + "3", "deep-r1-s2" + deep + "3"});
  CHECK(study.trials[0].group == "base train.epochs=2");
  CHECK(study.trials[6].group == "deep train.epochs=3");
  CHECK_THAT(study.trials[6].config, Contains("epochs = 3"));
  REQUIRE(study.expectations.size() == 1);
  CHECK(study.expectations[0].holds_for == std::vector<std::string>{"2"});
}

TEST_CASE("plan: an arm that sets the [regime] key itself is a control: run once, kept in resume",
          "[study][plan][regime]") {
  cfgtest::TempDir dir;
  const auto file = dir.write(
      "control.toml",
      experiment("[1]", "\n[[arm]]\nname = \"long\"\nset = { \"train.epochs\" = 4 }\n"
                        "\n[[arm]]\nname = \"base\"\n"
                        "\n[regime]\nkey = \"train.epochs\"\nvalues = [2, 3]\n"));
  const Study study = reproduce(file);
  REQUIRE(study.regime);
  CHECK(study.regime->controls == std::set<std::string>{"long"});
  // The control's own value wins, and it runs once, not once per regime value.
  CHECK(settings_of(study) == std::vector<std::string>{"long-s1: train.epochs=4",
                                                       "base-r0-s1: train.epochs=2",
                                                       "base-r1-s1: train.epochs=3"});
  CHECK(study.regime->group("long", 1) == "long");
  CHECK(study.regime->group("base", 1) == "base train.epochs=3");
  CHECK_THAT(study.trials[0].config, Contains("epochs = 4"));
  // A resumed study reads the controls back from its manifest.
  StudyDir planned;
  planned.path = new_study_path(dir.path() / "studies", study);
  planned.study = study;
  write_study(planned, {"ablate", "reproduce", file.string()});
  const StudyDir back = open_study(planned.path);
  REQUIRE(back.study.regime);
  CHECK(back.study.regime->controls == std::set<std::string>{"long"});
}

TEST_CASE("plan: [regime] and holds_for errors point at the file", "[study][plan][regime]") {
  cfgtest::TempDir dir;
  const std::string arm = "\n[[arm]]\nname = \"a\"\n";
  const std::string expect = "\n[[expect]]\nfinding = \"f\"\ncheck = \"a.test_accuracy > 0\"\n";
  SECTION("holds_for without a regime") {
    const std::string text = experiment("[1]", arm + expect + "holds_for = [250]\n");
    const auto file = dir.write("no_regime.toml", text);
    const auto error = plan_error(file);
    CHECK(error.where() == at(file, text, "250"));
    CHECK_THAT(error.what(), Contains("has none"));
  }
  SECTION("holds_for naming a value the regime does not have") {
    const std::string text = experiment(
        "[1]", arm + expect + "holds_for = [5]\n\n[regime]\nkey = \"topology.depth\"\nvalues = [2, 3]\n");
    const auto file = dir.write("value.toml", text);
    const auto error = plan_error(file);
    CHECK(error.where() == at(file, text, "5]"));
    CHECK_THAT(error.what(), Contains("not a value of topology.depth; its values: 2, 3"));
  }
  SECTION("every arm setting the regime key: the regime would move nothing") {
    const std::string text = experiment(
        "[1]", "\n[[arm]]\nname = \"a\"\nset = { \"topology.depth\" = 4 }\n"
               "\n[regime]\nkey = \"topology.depth\"\nvalues = [2, 3]\n");
    const auto file = dir.write("all_controls.toml", text);
    const auto error = plan_error(file);
    CHECK(error.where() == at(file, text, "regime]"));  // the table's name
    CHECK_THAT(error.what(), Contains("every arm sets topology.depth itself"));
  }
  SECTION("a value twice, no values, an unknown key") {
    std::string text = experiment("[1]", arm + "\n[regime]\nkey = \"topology.depth\"\nvalues = [2, 2]\n");
    auto file = dir.write("twice.toml", text);
    CHECK_THAT(plan_error(file).what(), Contains("lists 2 twice"));
    text = experiment("[1]", arm + "\n[regime]\nkey = \"topology.depth\"\n");
    file = dir.write("none.toml", text);
    CHECK_THAT(plan_error(file).what(), Contains("regime.values is required"));
    text = experiment("[1]", arm + "\n[regime]\nkey = \"topology.dept\"\nvalues = [2]\n");
    file = dir.write("key.toml", text);
    CHECK_THAT(plan_error(file).what(),
               Contains("at topology.dept = 2") && Contains("did you mean 'depth'?"));
  }
}
