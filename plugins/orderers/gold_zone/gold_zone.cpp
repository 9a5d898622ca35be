// Orderer `gold_zone`: the neuron selection of shared/seeds/002 ("Neuron Selection Algorithm").
// Phase 0 trains the output layer alone, as `backward` does; then, layers taken backward, each
// stage trains the `units` units of the current layer ranked first:
//   1. gold-zone units (epsilon < |S| < tau: the highest information gain), the margin closest
//      to the middle of the gold zone first;
//   2. moderate units: outside the gold zone but within the `moderate` share of the noisy or
//      collapsed zone next to it, the nearest to the gold zone first;
//   3. the rest (and units with no sum yet) in a seeded random order, for exploration.
// Within one visit of a layer a unit is trained at most once. Stuck layers are skipped forward
// (layer_walk.hpp).
#include <set>

#include "../layer_walk.hpp"

namespace {

using ablate::orderers::LayerWalk;

enum class Tier { gold, moderate, exploration };

const char* to_string(Tier tier) {
  switch (tier) {
    case Tier::gold: return "gold";
    case Tier::moderate: return "moderate";
    case Tier::exploration: return "exploration";
  }
  return "?";
}

struct Pick {
  int index;
  Tier tier;
};

class GoldZone final : public ablate::Orderer {
 public:
  explicit GoldZone(const ablate::Params& params)
      : walk_(params, true),
        units_(static_cast<int>(params.integer("units"))),
        moderate_(params.real("moderate")) {}

  std::optional<ablate::Stage> next(const ablate::OrderContext& ctx) override {
    const auto visit = walk_.next(ctx, ctx.graph.backward_order());
    if (!visit) return std::nullopt;
    if (visit->phase0)
      return walk_.stage(ctx, *visit, LayerWalk::whole_layer(ctx, visit->layer), "phase0");
    // A new visit, or one longer than the layer has units: every unit is a candidate again.
    const auto size = static_cast<std::size_t>(ctx.graph.layers().at(static_cast<std::size_t>(visit->layer)).size);
    if (visit->stage_in_visit == 0 || picked_.size() >= size) picked_.clear();
    ablate::UnitSelection units{false, {}};
    std::string label = "layer " + LayerWalk::layer_name(ctx, visit->layer) + ":";
    for (const Pick& pick : rank(ctx, visit->layer)) {
      units.units.push_back({visit->layer, pick.index});
      picked_.push_back(pick.index);
      label += (units.units.size() > 1 ? ", " : " ") + std::string("unit ") +
               std::to_string(pick.index) + " (" + to_string(pick.tier) + ")";
    }
    return walk_.stage(ctx, *visit, std::move(units), std::move(label));
  }

  int planned_epochs(const ablate::UnitGraph& graph, int epochs) const override {
    return walk_.planned_epochs(graph.layers().size(), epochs);
  }
  void save(ablate::StateStore& out, const std::string& prefix) const override {
    walk_.save(out, prefix);
    out.put(prefix + "picked", std::vector<std::int64_t>(picked_.begin(), picked_.end()));
  }
  void load(const ablate::StateStore& in, const std::string& prefix) override {
    walk_.load(in, prefix);
    const auto picked = in.integers(prefix + "picked");
    picked_.assign(picked.begin(), picked.end());
  }

 private:
  /// The units to train next in `layer`, best first, at most `units_`.
  std::vector<Pick> rank(const ablate::OrderContext& ctx, int layer) const {
    const std::set<int> done(picked_.begin(), picked_.end());
    std::vector<std::pair<double, int>> gold, moderate;  // (distance, unit)
    std::vector<int> rest;
    const int size = ctx.graph.layers().at(static_cast<std::size_t>(layer)).size;
    for (int i = 0; i < size; ++i) {
      if (done.count(i)) continue;
      const auto latest = ctx.sums.latest({layer, i});
      if (!latest || latest->n <= 0) {
        rest.push_back(i);
        continue;
      }
      const double n = latest->n, margin = latest->margin();
      if (ctx.zones.gold(latest->s, latest->n)) {
        gold.emplace_back(std::abs(margin - ctx.zones.gold_middle(latest->n)), i);
        continue;
      }
      // Outside the gold zone: how far into the neighbouring zone, as a share of that zone.
      const double low = ctx.zones.epsilon(latest->n) / n, high = ctx.zones.tau(latest->n) / n;
      const double depth = margin <= low ? low - margin : margin - high;
      const double zone = margin <= low ? low : 1.0 - high;
      if (depth <= moderate_ * zone) moderate.emplace_back(depth, i);
      else rest.push_back(i);
    }
    std::sort(gold.begin(), gold.end());
    std::sort(moderate.begin(), moderate.end());
    ctx.rng.shuffle(std::span<int>(rest));
    std::vector<Pick> picks;
    for (const auto& [distance, i] : gold) picks.push_back({i, Tier::gold});
    for (const auto& [distance, i] : moderate) picks.push_back({i, Tier::moderate});
    for (int i : rest) picks.push_back({i, Tier::exploration});
    if (picks.size() > static_cast<std::size_t>(units_)) picks.resize(static_cast<std::size_t>(units_));
    return picks;
  }

  LayerWalk walk_;
  int units_;
  double moderate_;
  std::vector<int> picked_;  // units trained in the current visit of a layer
};

const ablate::PluginInfo& info() {
  static const ablate::PluginInfo record = [] {
    auto params = ablate::orderers::walk_params();
    params.push_back(ablate::integer("units", 1, 1, ablate::kInf, "units trained per stage"));
    params.push_back(ablate::real("moderate", 0.5, 0, 1,
                                  "share of the noisy and collapsed zones, next to the gold zone, "
                                  "whose units rank as moderate (before the random rest)"));
    return ablate::PluginInfo{
        ablate::kAbiVersion, ablate::Kind::orderer, "gold_zone", "1.0",
        "phase 0 on the output layer, then layers backward, training first the units whose "
        "margin is nearest the middle of the gold zone",
        std::move(params)};
  }();
  return record;
}

std::unique_ptr<ablate::Plugin> create(const ablate::Params& params) {
  return std::make_unique<GoldZone>(params);
}

}  // namespace

ABLATE_PLUGIN(info, create)
