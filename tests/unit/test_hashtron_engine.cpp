// HashtronEngine (framework/src/hashtron/engine.hpp): what the Trainer's loop gets from the
// hashtron engine for each stage the orderer yields.
#include <catch2/catch.hpp>

#include <map>

#include "hashtron/engine.hpp"

using namespace ablate;

namespace {

// floor(sqrt(x)) of 6-bit x (8 classes): a 2-layer network has work in both layers.
Task sqrt_task() {
  Task task;
  task.train.x.resize(64, 6);
  for (int v = 0; v < 64; ++v) {
    for (int b = 0; b < 6; ++b) task.train.x(v, b) = static_cast<float>((v >> b) & 1);
    int r = 0;
    while ((r + 1) * (r + 1) <= v) ++r;
    task.train.y.push_back(r);
  }
  return task;
}

std::shared_ptr<HashtronModel> model(std::uint64_t seed, bool resalt = false) {
  HashtronSpec spec;
  spec.input.features = 6;
  spec.layers = {{6, 1, kNoPremodulo}, {3, 1, kNoPremodulo}};
  spec.combiners = {Combiner::parse("concat")};
  spec.classes = 8;
  spec.vote = VoteRule::hamming;
  spec.resalt = resalt;  // fits then draw from the engine's per-epoch stream
  Rng rng(seed);
  return std::make_shared<HashtronModel>(spec, rng);
}

std::vector<UnitId> fitted(const HashtronEngine& engine) {
  std::vector<UnitId> units;
  for (const auto& [unit, fit] : engine.last_fits()) units.push_back(unit);
  return units;
}

}  // namespace

TEST_CASE("HashtronEngine fits a stage's units in the stage's order, or every unit forward",
          "[hashtron]") {
  const Task task = sqrt_task();
  HashtronEngine engine(model(1), 9);
  Stage some;
  some.units = UnitSelection{false, {{1, 2}, {0, 4}, {1, 0}}};
  engine.fit_epoch(task, some, 0, 0);
  CHECK(fitted(engine) == some.units.units);

  const EpochFigures figures = engine.fit_epoch(task, Stage{}, 1, 1);
  std::vector<UnitId> forward;
  for (int i = 0; i < 6; ++i) forward.push_back({0, i});
  for (int i = 0; i < 3; ++i) forward.push_back({1, i});
  CHECK(fitted(engine) == forward);
  CHECK(figures.loss == 0);
  CHECK(figures.accuracy == Approx(engine.accuracy(task.train)));

  std::vector<std::int64_t> sums(9, 1000), expected(9, 0);
  engine.unit_sums(task.train, sums);
  dynamic_cast<HashtronModel&>(engine.model()).accumulate_unit_sums(task.train, expected);
  CHECK(sums == expected);
}

TEST_CASE("HashtronEngine: the same seed and epochs give the same model, state round-trips",
          "[hashtron]") {
  const Task task = sqrt_task();
  const auto run = [&](std::uint64_t seed) {
    auto m = model(1, true);
    HashtronEngine engine(m, seed);
    for (int epoch = 0; epoch < 3; ++epoch) engine.fit_epoch(task, Stage{}, epoch, epoch);
    StateStore state;
    engine.save(state);
    std::vector<std::int32_t> predicted(task.train.size());
    engine.model().predict(task.train.x, predicted);
    std::map<std::string, std::vector<std::byte>> bytes;
    for (const auto& [name, tensor] : state.tensors()) bytes[name] = tensor.bytes;
    return std::pair{bytes, predicted};
  };
  CHECK(run(4) == run(4));
  CHECK(run(4).first != run(5).first);  // the engine's seed keys the fits' salts

  HashtronEngine trained(model(1), 4);
  for (int epoch = 0; epoch < 2; ++epoch) trained.fit_epoch(task, Stage{}, epoch, epoch);
  StateStore state;
  trained.save(state);
  HashtronEngine restored(model(2), 4);
  restored.load(state);
  CHECK(restored.accuracy(task.train) == trained.accuracy(task.train));
  std::vector<std::int32_t> a(64), b(64);
  trained.model().predict(task.train.x, a);
  restored.model().predict(task.train.x, b);
  CHECK(a == b);
}
