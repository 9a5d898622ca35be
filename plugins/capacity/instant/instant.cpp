// Capacity law `instant` (shared/seeds/002, "Capacity Control Engine"): S~ is the unit's last
// sum, so the next capacity is N / (|S| + 1), clamped and bounded to [1, N].
#include "../capacity_limits.hpp"

namespace {

const ablate::PluginInfo& info() {
  static const ablate::PluginInfo record = ablate::capacity_laws::law_info(
      "instant", "capacity N/(|S|+1) from the unit's last sum S, clamped per step", {});
  return record;
}

std::unique_ptr<ablate::Plugin> create(const ablate::Params& params) {
  auto last = [](std::span<const ablate::SumRecord> history) {
    return static_cast<double>(history.back().s);
  };
  return std::make_unique<ablate::capacity_laws::Law<decltype(last)>>(params, last);
}

}  // namespace

ABLATE_PLUGIN(info, create)
