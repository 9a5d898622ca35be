// Orderers (issue 4, "Orderers"): the three plugins driven by hand, as the trainer drives them:
// ask for a stage, record every unit's sum, ask again.
#include <catch2/catch.hpp>

#include <functional>
#include <set>

#include "test_sched_support.hpp"

using namespace ablate;
using namespace ablate::test;

namespace {

/// Drives an orderer like the Trainer: after each stage, `sum_of(unit, stage)` is recorded for
/// every unit and `accuracy(stage)` becomes the train accuracy.
struct Driver {
  explicit Driver(const UnitGraph& g) : graph(g) {}

  const UnitGraph& graph;
  std::function<std::int32_t(UnitId, int)> sum_of = [](UnitId, int) { return 0; };
  std::function<double(int)> accuracy = [](int) { return 0.5; };
  std::int32_t n = 100;
  std::uint64_t seed = 1;
  SumCache sums;
  Zones zones;
  double train_accuracy = 0;
  int stage = 0;

  std::optional<Stage> ask(Orderer& orderer) {
    Rng rng = Rng::stream(seed, "orderer", static_cast<std::uint64_t>(stage));
    const OrderContext ctx{graph, sums, zones, rng, stage, 7, train_accuracy};
    return orderer.next(ctx);
  }
  void finish(const Stage& s) {
    for (std::size_t l = 0; l < graph.layers().size(); ++l)
      for (int i = 0; i < graph.layers()[l].size; ++i) {
        const UnitId unit{static_cast<int>(l), i};
        sums.record(unit, {sum_of(unit, stage), n, 0.0f, stage});
      }
    train_accuracy = accuracy(stage);
    StageRecord record{stage, stage, 0, 0, train_accuracy, 0, s.label};
    record.layer = s.layer;
    sums.record_stage(record);
    ++stage;
  }
  /// Every stage until the orderer is done (at most `limit`).
  std::vector<Stage> all(Orderer& orderer, int limit = 1000) {
    std::vector<Stage> out;
    while (static_cast<int>(out.size()) < limit) {
      auto s = ask(orderer);
      if (!s) break;
      finish(*s);
      out.push_back(std::move(*s));
    }
    return out;
  }
};

std::vector<int> layers_of(const std::vector<Stage>& stages) {
  std::vector<int> out;
  for (const auto& s : stages) out.push_back(s.layer);
  return out;
}

bool whole_layer(const Stage& s, const UnitGraph& graph) {
  if (s.units.all || s.layer < 0) return false;
  if (static_cast<int>(s.units.units.size()) != graph.layers()[static_cast<std::size_t>(s.layer)].size)
    return false;
  for (std::size_t i = 0; i < s.units.units.size(); ++i)
    if (s.units.units[i].layer != s.layer || s.units.units[i].index != static_cast<int>(i))
      return false;
  return true;
}

}  // namespace

TEST_CASE("forward trains layer 1 to the output, one whole layer per stage", "[sched][orderer]") {
  const UnitGraph graph = mlp_graph({4, 3}, 2);
  Driver driver{graph};
  const auto orderer = make_orderer("forward", {{"rounds", std::int64_t{2}}});
  const auto stages = driver.all(*orderer);
  CHECK(layers_of(stages) == std::vector<int>{0, 1, 2, 0, 1, 2});
  for (const auto& s : stages) {
    CHECK(whole_layer(s, graph));
    CHECK(s.epochs == 7);  // epochs_per_stage 0: train.epochs
  }
  CHECK(stages[0].label == "layer h1");
  CHECK(stages[2].label == "layer out");
}

TEST_CASE("backward: phase 0 on the output layer alone, then layer N back to layer 1",
          "[sched][orderer]") {
  const UnitGraph graph = mlp_graph({5, 4, 3}, 2);
  Driver driver{graph};
  const auto orderer =
      make_orderer("backward", {{"rounds", std::int64_t{2}}, {"epochs_per_stage", std::int64_t{3}}});
  const auto stages = driver.all(*orderer);
  CHECK(layers_of(stages) == std::vector<int>{3, 2, 1, 0, 3, 2, 1, 0});
  CHECK(stages[0].label == "phase0");
  CHECK(stages[1].label == "layer h3");
  CHECK(stages[4].label == "layer out");  // phase 0 happens once
  for (const auto& s : stages) {
    CHECK(whole_layer(s, graph));
    CHECK(s.epochs == 3);
  }
}

TEST_CASE("backward stays in a layer for stages_per_layer stages while it makes progress",
          "[sched][orderer]") {
  const UnitGraph graph = mlp_graph({3}, 2);
  Driver driver{graph};
  driver.accuracy = [](int stage) { return 0.1 + 0.05 * stage; };  // always progressing
  const auto orderer = make_orderer(
      "backward", {{"stages_per_layer", std::int64_t{3}}, {"patience", std::int64_t{2}},
                   {"tolerance", 0.01}});
  const auto stages = driver.all(*orderer);
  CHECK(layers_of(stages) == std::vector<int>{1, 1, 1, 0, 0, 0});
  for (const auto& s : stages) CHECK_THAT(s.label, !Catch::Contains("skipped"));
}

TEST_CASE("backward skips forward out of a layer stuck for `patience` stages, and records it",
          "[sched][orderer]") {
  const UnitGraph graph = mlp_graph({4, 3}, 2);
  Driver driver{graph};  // every sum and the accuracy stay the same: no progress anywhere
  const auto orderer = make_orderer(
      "backward", {{"stages_per_layer", std::int64_t{5}}, {"patience", std::int64_t{2}}});
  const auto stages = driver.all(*orderer);
  // The output's first stage moves train accuracy from nothing to 50% (progress); then two
  // stages without progress in each layer.
  CHECK(layers_of(stages) == std::vector<int>{2, 2, 2, 1, 1, 0, 0});
  CHECK(stages[3].label == "layer h2 (skipped forward from layer out after 2 stages without "
                           "progress)");
  CHECK_THAT(stages[5].label, Catch::StartsWith("layer h1 (skipped forward from layer h2"));
  CHECK(stages[4].label == "layer h2");
  StateStore state;
  orderer->save(state, "o/");
  CHECK(state.integers("o/walk").at(4) == 3);  // three skips, the last one out of layer h1

  // A margin that moves counts as progress even when accuracy does not.
  Driver moving{graph};
  moving.sum_of = [](UnitId unit, int stage) { return unit.layer == 2 ? 10 * stage : 0; };
  const auto patient = make_orderer(
      "backward", {{"stages_per_layer", std::int64_t{4}}, {"patience", std::int64_t{2}}});
  const auto moved = moving.all(*patient);
  CHECK(layers_of(moved) == std::vector<int>{2, 2, 2, 2, 1, 1, 0, 0});
}

TEST_CASE("a resumed orderer continues the same sequence", "[sched][orderer]") {
  const UnitGraph graph = mlp_graph({6, 4}, 3);
  auto sum_of = [](UnitId unit, int stage) {
    return static_cast<std::int32_t>((unit.index * 37 + unit.layer * 11 + stage * 23) % 201) - 100;
  };
  for (const char* name : {"forward", "backward", "gold_zone"}) {
    INFO(name);
    const std::map<std::string, Value> set{{"rounds", std::int64_t{3}},
                                           {"stages_per_layer", std::int64_t{2}},
                                           {"patience", std::int64_t{1}},
                                           {"tolerance", 0.05}};
    Driver whole{graph};
    whole.sum_of = sum_of;
    const auto uninterrupted = whole.all(*make_orderer(name, set));
    REQUIRE(uninterrupted.size() >= 6);

    Driver first{graph};
    first.sum_of = sum_of;
    const auto before = make_orderer(name, set);
    const auto head = first.all(*before, 5);
    StateStore state;
    before->save(state, "orderer/");
    const auto after = make_orderer(name, set);  // a fresh process
    after->load(state, "orderer/");
    auto tail = first.all(*after);
    std::vector<Stage> joined = head;
    joined.insert(joined.end(), tail.begin(), tail.end());
    REQUIRE(joined.size() == uninterrupted.size());
    for (std::size_t i = 0; i < joined.size(); ++i) {
      CHECK(joined[i].label == uninterrupted[i].label);
      CHECK(joined[i].layer == uninterrupted[i].layer);
      CHECK(joined[i].units.units == uninterrupted[i].units.units);
    }
  }
}

TEST_CASE("gold_zone ranks gold units by distance to the zone's middle, then moderate ones, "
          "then a seeded random rest", "[sched][orderer]") {
  // N = 100: epsilon 10, tau 80, the gold zone's middle at margin 0.45.
  const UnitGraph graph = mlp_graph({6}, 2);
  const std::int32_t h1[6] = {95, 50, -30, 6, 0, -85};
  // 95: collapsed, deep (rest); 50: gold, 0.05 from the middle; -30: gold, 0.15 away;
  // 6: noisy, 0.04 into its zone (moderate); 0: noisy, 0.1 deep (rest); -85: collapsed, 0.05
  // into it (moderate).
  auto sum_of = [&](UnitId unit, int) { return unit.layer == 0 ? h1[unit.index] : 40; };
  Driver driver{graph};
  driver.sum_of = sum_of;
  const auto orderer = make_orderer(
      "gold_zone", {{"stages_per_layer", std::int64_t{6}}, {"patience", std::int64_t{0}}});
  const auto stages = driver.all(*orderer);
  // Phase 0 is the output layer's whole visit (6 stages here), then 6 picks in h1.
  REQUIRE(stages.size() == 12);
  for (std::size_t i = 0; i < 6; ++i) {
    CHECK(stages[i].label == "phase0");
    CHECK(whole_layer(stages[i], graph));
  }
  std::vector<int> picked;
  for (std::size_t i = 6; i < stages.size(); ++i) {
    REQUIRE(stages[i].units.units.size() == 1);
    CHECK(stages[i].layer == 0);
    picked.push_back(stages[i].units.units[0].index);
  }
  CHECK(std::vector<int>(picked.begin(), picked.begin() + 4) == std::vector<int>{1, 2, 3, 5});
  CHECK(std::set<int>(picked.begin() + 4, picked.end()) == std::set<int>{0, 4});
  CHECK(stages[6].label == "layer h1: unit 1 (gold)");
  CHECK(stages[8].label == "layer h1: unit 3 (moderate)");
  CHECK_THAT(stages[10].label, Catch::EndsWith("(exploration)"));

  // Several units per stage: the gold ones first.
  Driver wide{graph};
  wide.sum_of = sum_of;
  const auto three = make_orderer("gold_zone", {{"units", std::int64_t{3}}});
  const auto two_stages = wide.all(*three);
  REQUIRE(two_stages.size() == 2);
  CHECK(two_stages[1].units.units == std::vector<UnitId>{{0, 1}, {0, 2}, {0, 3}});
}

TEST_CASE("gold_zone's exploration pick comes from the orderer's seeded stream", "[sched][orderer]") {
  // No unit of h1 is in the gold zone or near it: every pick is exploration.
  const UnitGraph graph = mlp_graph({8}, 2);
  std::set<int> first_picks;
  for (std::uint64_t seed = 1; seed <= 12; ++seed) {
    auto pick = [&] {
      Driver driver{graph};
      driver.seed = seed;
      driver.sum_of = [](UnitId unit, int) { return unit.layer == 0 ? 100 : 40; };
      const auto stages = driver.all(*make_orderer("gold_zone"));
      REQUIRE(stages.size() == 2);
      CHECK_THAT(stages[1].label, Catch::EndsWith("(exploration)"));
      return stages[1].units.units.at(0).index;
    };
    const int once = pick();
    CHECK(pick() == once);  // the same seed, the same pick
    first_picks.insert(once);
  }
  CHECK(first_picks.size() >= 3);  // and different seeds explore different units
}
