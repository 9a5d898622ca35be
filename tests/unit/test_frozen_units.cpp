// Issue 4, "Orderers": the units outside a stage's selection are frozen, and frozen means they
// do not move at all: not through a zero gradient alone, but also not through momentum or weight
// decay (Parameter::frozen, honoured by every optimizer). The real mlp plugin, the gradient engine.
#include <catch2/catch.hpp>

#include <map>

#include "ablate/topology.hpp"
#include "config/experiment.hpp"
#include "plugins/registry.hpp"
#include "train/gradient_engine.hpp"

using namespace ablate;

namespace {

Params defaults(const std::vector<ParamSpec>& specs, const std::map<std::string, Value>& set) {
  Params params;
  for (const ParamSpec& spec : specs)
    if (spec.default_value) params.set(spec.name, *spec.default_value);
  for (const auto& [key, value] : set) params.set(key, value);
  return params;
}

// Two well-separated classes in 6 features, seeded.
Task blobs() {
  Task task;
  Rng rng(11);
  const int n = 96;
  task.train.x.resize(n, 6);
  for (int i = 0; i < n; ++i) {
    const int label = i % 2;
    for (int f = 0; f < 6; ++f)
      task.train.x(i, f) = static_cast<float>(rng.uniform() - 0.5 + (label ? 0.8 : -0.8) * (f % 2));
    task.train.y.push_back(label);
  }
  return task;
}

std::map<std::string, Matrix> values(GradientModel& model) {
  std::map<std::string, Matrix> out;
  for (const Parameter* p : model.parameters()) out[p->name] = p->value;
  return out;
}

}  // namespace

TEST_CASE("frozen units stay bit-identical under momentum and weight decay", "[sched][optim]") {
  Registry registry;
  registry.load(std::filesystem::path(ABLATE_PLUGIN_BUILD_DIR) / "mlp.so");
  const PluginEntry* mlp = registry.find("mlp");
  REQUIRE(mlp != nullptr);
  auto topology = registry.create<Topology>(
      Kind::topology, "mlp", defaults(mlp->info->params, {{"hidden", std::vector<std::int64_t>{8}}}));
  const Task task = blobs();

  for (const char* optimizer : {"sgd", "adam", "adamw"}) {
    DYNAMIC_SECTION(optimizer) {
      const Params train = defaults(host_sections().at("train"),
                                    {{"optimizer", std::string(optimizer)},
                                     {"momentum", 0.9},
                                     {"weight_decay", 0.05},
                                     {"batch_size", std::int64_t{16}},
                                     {"lr", 0.05}});
      Rng init(3);
      std::unique_ptr<Model> built = topology->build({{6, 1, 1, 0, 2, {}}, 1}, init);
      std::shared_ptr<GradientModel> model(dynamic_cast<GradientModel*>(built.release()));
      REQUIRE(model != nullptr);
      GradientEngine engine(model, {}, {6, 1, 1, 0, 2, {}}, train, 7, nullptr);

      // A stage of everything first: every unit gets momentum (and Adam moments).
      engine.fit_epoch(task, Stage{UnitSelection::everything(), 1, -1, "all"}, 0, 0);
      const auto before = values(*model);
      // Then a stage of hidden units 0 and 1 only: the other six and the output layer freeze.
      engine.fit_epoch(task, Stage{UnitSelection{false, {{0, 0}, {0, 1}}}, 1, 0, "two"}, 1, 1);
      const auto after = values(*model);

      const Matrix& w0 = before.at("layer1.weight");
      const Matrix& w1 = after.at("layer1.weight");
      for (int unit = 0; unit < 8; ++unit) {
        INFO("hidden unit " << unit);
        const bool trained = unit < 2;
        CHECK((w1.row(unit).array() != w0.row(unit).array()).any() == trained);
        CHECK((after.at("layer1.bias")(0, unit) != before.at("layer1.bias")(0, unit)) == trained);
      }
      // Bit-identical: == on floats is exact.
      CHECK((after.at("layer2.weight").array() == before.at("layer2.weight").array()).all());
      CHECK((after.at("layer2.bias").array() == before.at("layer2.bias").array()).all());
    }
  }
}
