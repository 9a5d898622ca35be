// Capacity law `moving_average` (shared/seeds/002: "use moving average of last k sums"; its risk
// table: "use weighted average of last 3 runs, mark stale data" against stale sums): |S~| is the
// weighted mean of |S| over the unit's last k sums (fewer while its history is shorter). The
// newest weighs k, the one before k - 1, and so on (a linearly weighted moving average: the
// estimate follows the unit, damped); a stale sum, recorded by an earlier run (SumRecord::stale,
// [pipeline] sums_from), weighs `stale_weight` times as much, as it describes other weights.
// Magnitudes are averaged because the law only asks how far a unit leans, not which way: a unit
// going from +0.4 N to -0.3 N is decisive both times, and a signed mean would call it noisy.
#include "../capacity_limits.hpp"

namespace {

const ablate::PluginInfo& info() {
  static const ablate::PluginInfo record = ablate::capacity_laws::law_info(
      "moving_average",
      "capacity N/(|S~|+1), |S~| the linearly weighted mean |S| of the unit's last k sums",
      {ablate::integer("k", 3, 1, ablate::kInf, "how many of the latest sums are averaged"),
       ablate::choice("weights", "linear", {"linear", "equal"},
                      "linear: the newest sum weighs k, the oldest 1; equal: a plain mean"),
       ablate::real("stale_weight", 0.5, 0, 1,
                    "the weight of a sum an earlier run recorded, relative to a fresh one (0: "
                    "stale sums are ignored while fresh ones exist)")});
  return record;
}

std::unique_ptr<ablate::Plugin> create(const ablate::Params& params) {
  const auto k = static_cast<std::size_t>(params.integer("k"));
  const bool linear = params.string("weights") == "linear";
  const double stale_weight = params.real("stale_weight");
  auto weighted_mean = [k, linear, stale_weight](std::span<const ablate::SumRecord> history) {
    const auto recent = history.last(std::min(k, history.size()));
    double total = 0, weights = 0;
    for (std::size_t i = 0; i < recent.size(); ++i) {
      double w = linear ? static_cast<double>(i + 1) : 1.0;  // the newest is last
      if (recent[i].stale()) w *= stale_weight;
      total += w * std::abs(static_cast<double>(recent[i].s));
      weights += w;
    }
    if (weights > 0) return total / weights;
    return std::abs(static_cast<double>(recent.back().s));  // only stale sums, weighted 0
  };
  return std::make_unique<ablate::capacity_laws::Law<decltype(weighted_mean)>>(params,
                                                                                weighted_mean);
}

}  // namespace

ABLATE_PLUGIN(info, create)
