// Alerts (issue 4, "Observability and alerts"): each condition on hand-made histories, raised
// once, at the stage where it begins.
#include <catch2/catch.hpp>

#include <algorithm>

#include "stats/alerts.hpp"

using namespace ablate;

namespace {

void add_stage(SumCache& sums, double train_accuracy, int layer) {
  StageRecord st;
  st.stage = static_cast<std::int32_t>(sums.stages().size());
  st.train_accuracy = train_accuracy;
  st.layer = layer;
  st.label = "layer " + std::to_string(layer);
  sums.record_stage(st);
}

std::vector<AlertKind> kinds(const std::vector<Alert>& alerts) {
  std::vector<AlertKind> out;
  for (const auto& a : alerts) out.push_back(a.kind);
  return out;
}

bool raised(const SumCache& sums, AlertKind kind) {
  const auto k = kinds(new_alerts(sums, {}));
  return std::find(k.begin(), k.end(), kind) != k.end();
}

const std::vector<UnitLayer> kLayers = {{"hidden", 4, {}}, {"out", 2, {0}}};

}  // namespace

TEST_CASE("memorization: train accuracy crossing 95% from one epoch to the next, once",
          "[sched][alerts]") {
  CHECK_FALSE(memorization_alert(0.0, 0.90));
  const auto alert = memorization_alert(0.90, 0.96);
  REQUIRE(alert);
  CHECK(alert->kind == AlertKind::memorization);
  CHECK(alert->message == "train accuracy 96.00% is above 95.00%: memorization risk");
  CHECK_FALSE(memorization_alert(0.96, 0.97));  // still above: already raised
  CHECK_FALSE(memorization_alert(0.97, 0.94));
  CHECK(memorization_alert(0.94, 0.951));  // crossed again
  AlertRules strict;
  strict.memorization_accuracy = 0.99;
  CHECK_FALSE(memorization_alert(0.94, 0.98, strict));
  // The stage checks leave it to the epochs: a stage ending above 95% raises nothing there.
  SumCache sums;
  add_stage(sums, 0.90, 0);
  add_stage(sums, 0.96, 0);
  CHECK_FALSE(raised(sums, AlertKind::memorization));
}

TEST_CASE("margin stagnation: no margin changed for more than 3 stages", "[sched][alerts]") {
  SumCache sums;
  auto stage = [&](std::int32_t s_of_unit1) {
    const auto t = static_cast<std::int32_t>(sums.stages().size());
    sums.record({0, 0}, {10, 100, 0, t});
    sums.record({0, 1}, {s_of_unit1, 100, 0, t});
    add_stage(sums, 0.5 + 0.01 * t, -1);
  };
  stage(1);
  stage(2);
  CHECK(stagnant_stages(sums) == 0);
  for (int k = 1; k <= 3; ++k) {
    stage(2);
    CHECK(stagnant_stages(sums) == k);
    CHECK_FALSE(raised(sums, AlertKind::margin_stagnation));
  }
  stage(2);  // the 4th stage without change: more than 3
  CHECK(stagnant_stages(sums) == 4);
  CHECK(raised(sums, AlertKind::margin_stagnation));
  stage(2);
  CHECK_FALSE(raised(sums, AlertKind::margin_stagnation));  // raised once
  stage(-2);  // |S| the same, margin the same
  CHECK(stagnant_stages(sums) == 6);
  stage(3);
  CHECK(stagnant_stages(sums) == 0);
}

TEST_CASE("capacity oscillation: the change flips sign 3 times in a row", "[sched][alerts]") {
  auto history = [](std::initializer_list<float> capacities) {
    std::vector<SumRecord> out;
    for (float c : capacities) out.push_back({0, 100, c, 0});
    return out;
  };
  CHECK(capacity_flips(history({1, 2, 1, 2, 1})) == 3);
  CHECK(capacity_flips(history({1, 2, 1, 2})) == 2);
  CHECK(capacity_flips(history({5, 1, 2, 1, 2})) == 3);  // the size of a change does not matter
  CHECK(capacity_flips(history({1, 2, 2, 1, 2, 1})) == 2);  // a zero change ends the run
  CHECK(capacity_flips(history({1, 2, 3, 4})) == 0);
  CHECK(capacity_flips(history({3})) == 0);

  SumCache sums;
  const float capacities[] = {4, 8, 4, 8, 4, 8};
  for (std::int32_t t = 0; t < 5; ++t) {
    sums.record({1, 0}, {t, 100, capacities[t], t});  // sums that move: no stagnation
    sums.record({1, 1}, {t, 100, capacities[t], t});
    sums.record({0, 3}, {t, 100, 10.0f + static_cast<float>(t), t});
  }
  const auto alerts = new_alerts(sums, kLayers);
  REQUIRE(kinds(alerts) == std::vector<AlertKind>{AlertKind::capacity_oscillation});
  CHECK(alerts[0].layer == 1);
  CHECK(alerts[0].units == std::vector<UnitId>{{1, 0}, {1, 1}});
  CHECK_THAT(alerts[0].message, Catch::Contains("2 unit(s) of layer out") &&
                                    Catch::Contains("(1.0, 1.1)"));
  sums.record({1, 0}, {0, 100, capacities[5], 5});
  sums.record({1, 1}, {0, 100, capacities[5], 5});
  CHECK_FALSE(raised(sums, AlertKind::capacity_oscillation));
}

TEST_CASE("stuck in one layer: 3 stages of one layer leave train accuracy unchanged",
          "[sched][alerts]") {
  SumCache sums;
  add_stage(sums, 0.40, 1);
  add_stage(sums, 0.60, 0);
  add_stage(sums, 0.60, 0);
  add_stage(sums, 0.6004, 0);  // within the tolerance of 0.001
  CHECK(stuck_stages(sums.stages(), 1e-3) == 2);
  CHECK_FALSE(raised(sums, AlertKind::stuck_in_layer));
  add_stage(sums, 0.60, 0);
  CHECK(stuck_stages(sums.stages(), 1e-3) == 3);
  const auto alerts = new_alerts(sums, kLayers);
  REQUIRE(kinds(alerts) == std::vector<AlertKind>{AlertKind::stuck_in_layer});
  CHECK(alerts[0].message ==
        "3 stages in a row trained layer hidden without changing train accuracy (60.00%): stuck "
        "in one layer");
  add_stage(sums, 0.60, 0);
  CHECK_FALSE(raised(sums, AlertKind::stuck_in_layer));
  add_stage(sums, 0.60, 1);  // another layer
  CHECK(stuck_stages(sums.stages(), 1e-3) == 1);
  add_stage(sums, 0.70, 1);
  CHECK(stuck_stages(sums.stages(), 1e-3) == 0);
  add_stage(sums, 0.70, -1);  // several layers at once: not "one layer"
  CHECK(stuck_stages(sums.stages(), 1e-3) == 0);
}

TEST_CASE("an alert as a metrics row", "[sched][alerts]") {
  const Alert alert{AlertKind::capacity_oscillation, "why", 1, {{1, 0}, {1, 5}}};
  CHECK(to_json(alert).dump() ==
        R"({"kind":"alert","alert":"capacity_oscillation","message":"why","layer":1,"units":["1.0","1.5"]})");
  CHECK(new_alerts(SumCache{}, {}).empty());
}
