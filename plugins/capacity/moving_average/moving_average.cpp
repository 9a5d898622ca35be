// Capacity law `moving_average` (shared/seeds/002: "use moving average of last k sums"; its risk
// table: "use weighted average of last 3 runs" against stale sums): |S~| is the mean of |S| over
// the unit's last k sums (fewer while its history is shorter). Magnitudes are averaged because
// the law only asks how far a unit leans, not which way: a unit going from +0.4 N to -0.3 N is
// decisive both times, and a signed mean would call it noisy.
#include "../capacity_limits.hpp"

namespace {

const ablate::PluginInfo& info() {
  static const ablate::PluginInfo record = ablate::capacity_laws::law_info(
      "moving_average", "capacity N/(|S~|+1), |S~| the mean |S| of the unit's last k sums",
      {ablate::integer("k", 3, 1, ablate::kInf, "how many of the latest sums are averaged")});
  return record;
}

std::unique_ptr<ablate::Plugin> create(const ablate::Params& params) {
  const auto k = static_cast<std::size_t>(params.integer("k"));
  auto mean_of_last = [k](std::span<const ablate::SumRecord> history) {
    const auto recent = history.last(std::min(k, history.size()));
    double total = 0;
    for (const auto& r : recent) total += std::abs(static_cast<double>(r.s));
    return total / static_cast<double>(recent.size());
  };
  return std::make_unique<ablate::capacity_laws::Law<decltype(mean_of_last)>>(params, mean_of_last);
}

}  // namespace

ABLATE_PLUGIN(info, create)
