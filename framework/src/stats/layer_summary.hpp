#pragma once
// What a stage row reports (issue 4, "Observability"): the units it trained and, per unit layer,
// how its units' margins are distributed, how many lie in each zone, and the capacities they
// trained with.
#include <optional>
#include <string>
#include <vector>

#include "ablate/stats.hpp"
#include "runs/json.hpp"

namespace ablate {

/// "layer.index", as rows and alerts name a unit.
std::string unit_name(UnitId unit);
/// "all", or the units' names.
Json to_json(const UnitSelection& units);

/// Order statistics of a sample (linear interpolation between ranks, as numpy's default).
struct Quantiles {
  double min = 0, q25 = 0, median = 0, q75 = 0, max = 0, mean = 0;
};
/// All zero for an empty sample.
Quantiles quantiles(std::vector<double> values);

struct LayerSummary {
  int units = 0;  // units of the layer with a record
  int gold = 0, collapsed = 0, noisy = 0;
  Quantiles margin;
  std::optional<Quantiles> capacity;  // over the units that trained with one
};

/// From each unit's latest record.
LayerSummary summarize_layer(const SumCache& sums, int layer, const Zones& zones);

/// {"name":..,"units":..,"gold":..,"collapsed":..,"noisy":..,"margin":{"min":..,..},
///  "capacity":{..}}
Json to_json(const LayerSummary& summary, const std::string& name);

/// The sum cache's records as JSON (`ablate cache --export`, the report): the stage number as
/// recorded, with "stale" for an earlier run's.
/// {"stage","stale","epoch","layer","label","timestamp","duration","train_accuracy","val_accuracy"}
Json to_json(const StageRecord& stage);
/// {"stage","stale","s","n","margin","capacity"}
Json to_json(const SumRecord& record);
/// The stage a record names, stale or not (SumRecord::stage holds -1 - stage for stale ones).
inline std::int32_t stage_number(std::int32_t stored) { return stored < 0 ? -1 - stored : stored; }

}  // namespace ablate
