// Capacity law `exponential` (shared/seeds/002: "exponential smoothing instead of instantaneous
// sum"): |S~| starts at the unit's first kept |S| and follows s <- alpha |S| + (1 - alpha) s
// through its history, oldest first. Magnitudes, as in moving_average: the law asks how far a
// unit leans, not which way.
#include "../capacity_limits.hpp"

namespace {

const ablate::PluginInfo& info() {
  static const ablate::PluginInfo record = ablate::capacity_laws::law_info(
      "exponential", "capacity N/(|S~|+1), |S~| the exponentially smoothed |S| of the unit",
      {ablate::real("alpha", 0.5, std::nextafter(0.0, 1.0), 1.0,
                    "weight of the newest sum (1: the instant law)")});
  return record;
}

std::unique_ptr<ablate::Plugin> create(const ablate::Params& params) {
  const double alpha = params.real("alpha");
  auto smoothed = [alpha](std::span<const ablate::SumRecord> history) {
    double s = std::abs(static_cast<double>(history.front().s));
    for (const auto& r : history.subspan(1))
      s = alpha * std::abs(static_cast<double>(r.s)) + (1.0 - alpha) * s;
    return s;
  };
  return std::make_unique<ablate::capacity_laws::Law<decltype(smoothed)>>(params, smoothed);
}

}  // namespace

ABLATE_PLUGIN(info, create)
