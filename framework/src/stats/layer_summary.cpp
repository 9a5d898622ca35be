#include "stats/layer_summary.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace ablate {
namespace {

Json to_json(const Quantiles& q) {
  Json out = Json::object();
  out["min"] = q.min;
  out["q25"] = q.q25;
  out["median"] = q.median;
  out["q75"] = q.q75;
  out["max"] = q.max;
  out["mean"] = q.mean;
  return out;
}

}  // namespace

std::string unit_name(UnitId unit) {
  return std::to_string(unit.layer) + "." + std::to_string(unit.index);
}

Json to_json(const UnitSelection& units) {
  if (units.all) return "all";
  Json out = Json::array();
  for (const UnitId& unit : units.units) out.push_back(unit_name(unit));
  return out;
}

Quantiles quantiles(std::vector<double> values) {
  Quantiles q;
  if (values.empty()) return q;
  std::sort(values.begin(), values.end());
  auto at = [&](double fraction) {
    const double rank = fraction * static_cast<double>(values.size() - 1);
    const auto below = static_cast<std::size_t>(std::floor(rank));
    const std::size_t above = std::min(below + 1, values.size() - 1);
    return values[below] + (rank - static_cast<double>(below)) * (values[above] - values[below]);
  };
  q.min = values.front();
  q.q25 = at(0.25);
  q.median = at(0.5);
  q.q75 = at(0.75);
  q.max = values.back();
  q.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
  return q;
}

LayerSummary summarize_layer(const SumCache& sums, int layer, const Zones& zones) {
  LayerSummary out;
  std::vector<double> margins, capacities;
  const auto& units = sums.units();
  for (auto it = units.lower_bound({layer, 0}); it != units.end() && it->first.layer == layer;
       ++it) {
    if (it->second.empty()) continue;
    const SumRecord& r = it->second.back();
    ++out.units;
    out.gold += zones.gold(r.s, r.n);
    out.collapsed += zones.collapsed(r.s, r.n);
    out.noisy += zones.noisy(r.s, r.n);
    margins.push_back(r.margin());
    if (r.capacity > 0) capacities.push_back(r.capacity);
  }
  out.margin = quantiles(std::move(margins));
  if (!capacities.empty()) out.capacity = quantiles(std::move(capacities));
  return out;
}

Json to_json(const LayerSummary& summary, const std::string& name) {
  Json out = Json::object();
  out["name"] = name;
  out["units"] = summary.units;
  out["gold"] = summary.gold;
  out["collapsed"] = summary.collapsed;
  out["noisy"] = summary.noisy;
  out["margin"] = to_json(summary.margin);
  if (summary.capacity) out["capacity"] = to_json(*summary.capacity);
  return out;
}

Json to_json(const StageRecord& s) {
  Json j = Json::object();
  j["stage"] = stage_number(s.stage);
  j["stale"] = s.stale();
  j["epoch"] = s.epoch;
  j["layer"] = s.layer;
  j["label"] = s.label;
  j["timestamp"] = s.timestamp;
  j["duration"] = s.duration;
  j["train_accuracy"] = s.train_accuracy;
  j["val_accuracy"] = s.val_accuracy;
  return j;
}

Json to_json(const SumRecord& r) {
  Json j = Json::object();
  j["stage"] = stage_number(r.stage);
  j["stale"] = r.stale();
  j["s"] = r.s;
  j["n"] = r.n;
  j["margin"] = r.margin();
  j["capacity"] = static_cast<double>(r.capacity);
  return j;
}

}  // namespace ablate
