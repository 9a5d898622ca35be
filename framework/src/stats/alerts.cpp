#include "stats/alerts.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "stats/layer_summary.hpp"

namespace ablate {
namespace {

std::string layer_name(std::span<const UnitLayer> layers, int layer) {
  if (layer >= 0 && static_cast<std::size_t>(layer) < layers.size())
    return layers[static_cast<std::size_t>(layer)].name;
  return std::to_string(layer);
}

int sign(double x) { return (x > 0) - (x < 0); }

}  // namespace

const char* to_string(AlertKind kind) {
  switch (kind) {
    case AlertKind::memorization: return "memorization";
    case AlertKind::margin_stagnation: return "margin_stagnation";
    case AlertKind::capacity_oscillation: return "capacity_oscillation";
    case AlertKind::stuck_in_layer: return "stuck_in_layer";
  }
  return "?";
}

int stagnant_stages(const SumCache& sums) {
  int fewest = -1;
  for (const auto& [unit, history] : sums.units()) {
    if (history.size() < 2) continue;
    int unchanged = 0;
    for (std::size_t i = history.size() - 1; i > 0 && history[i].margin() == history[i - 1].margin();
         --i)
      ++unchanged;
    fewest = fewest < 0 ? unchanged : std::min(fewest, unchanged);
    if (fewest == 0) break;
  }
  return std::max(fewest, 0);
}

int capacity_flips(std::span<const SumRecord> history) {
  int flips = 0;
  // Changes i-1 -> i and i -> i+1, walked back from the newest.
  for (std::size_t i = history.size() >= 2 ? history.size() - 2 : 0; i > 0; --i) {
    const int before = sign(double(history[i].capacity) - double(history[i - 1].capacity));
    const int after = sign(double(history[i + 1].capacity) - double(history[i].capacity));
    if (before == 0 || after == 0 || before == after) break;
    ++flips;
  }
  return flips;
}

int stuck_stages(std::span<const StageRecord> stages, double tolerance) {
  if (stages.empty() || stages.back().layer < 0) return 0;
  const int layer = stages.back().layer;
  int count = 0;
  for (std::size_t i = stages.size() - 1; i > 0 && stages[i].layer == layer &&
                                          std::abs(stages[i].train_accuracy -
                                                   stages[i - 1].train_accuracy) <= tolerance;
       --i)
    ++count;
  return count;
}

std::optional<Alert> memorization_alert(double before, double now, const AlertRules& rules) {
  if (now <= rules.memorization_accuracy || before > rules.memorization_accuracy) return std::nullopt;
  return Alert{AlertKind::memorization,
               fmt::format("train accuracy {:.2f}% is above {:.2f}%: memorization risk", 100 * now,
                           100 * rules.memorization_accuracy),
               -1,
               {}};
}

std::vector<Alert> new_alerts(const SumCache& sums, std::span<const UnitLayer> layers,
                              const AlertRules& rules) {
  std::vector<Alert> out;
  const auto& stages = sums.stages();
  if (const int stagnant = stagnant_stages(sums); stagnant == rules.stagnation_stages + 1)
    out.push_back({AlertKind::margin_stagnation,
                   fmt::format("no unit's margin changed over the last {} stages: margin "
                               "stagnation",
                               stagnant),
                   -1,
                   {}});
  std::map<int, std::vector<UnitId>> oscillating;  // by layer
  for (const auto& [unit, history] : sums.units())
    if (capacity_flips(history) == rules.oscillation_flips) oscillating[unit.layer].push_back(unit);
  for (auto& [layer, units] : oscillating) {
    std::string shown;
    for (std::size_t i = 0; i < std::min<std::size_t>(units.size(), 5); ++i)
      shown += (i ? ", " : "") + unit_name(units[i]);
    if (units.size() > 5) shown += ", ...";
    out.push_back({AlertKind::capacity_oscillation,
                   fmt::format("the capacity of {} unit(s) of layer {} changed direction {} times "
                               "in a row ({}): capacity oscillation",
                               units.size(), layer_name(layers, layer), rules.oscillation_flips,
                               shown),
                   layer, std::move(units)});
  }
  if (stuck_stages(stages, rules.accuracy_tolerance) == rules.stuck_stages)
    out.push_back({AlertKind::stuck_in_layer,
                   fmt::format("{} stages in a row trained layer {} without changing train "
                               "accuracy ({:.2f}%): stuck in one layer",
                               rules.stuck_stages, layer_name(layers, stages.back().layer),
                               100 * stages.back().train_accuracy),
                   stages.back().layer,
                   {}});
  return out;
}

Json to_json(const Alert& alert) {
  Json out = Json::object();
  out["kind"] = "alert";
  out["alert"] = to_string(alert.kind);
  out["message"] = alert.message;
  out["layer"] = alert.layer;
  if (!alert.units.empty()) {
    Json units = Json::array();
    for (UnitId unit : alert.units) units.push_back(unit_name(unit));
    out["units"] = std::move(units);
  }
  return out;
}

}  // namespace ablate
