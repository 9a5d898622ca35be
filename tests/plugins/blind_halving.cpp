// A capacity law that ignores the sums: every unit's capacity halves at every stage (the first
// is N / 2). The control for capacity_r2 (stats/capacity_fit.hpp): its capacities drift while
// the margins drift, yet within a stage no unit gets more capacity for a smaller margin.
#include "ablate/capacity.hpp"

namespace {

class BlindHalving final : public ablate::CapacityLaw {
 public:
  /// The S~ for which the host's N / (|S~| + 1) is half the current capacity.
  double estimate(std::span<const ablate::SumRecord> history) const override {
    const double n = history.back().n, current = history.back().capacity;
    const double target = current > 0 ? current / 2 : n / 2;
    return n / target - 1;
  }
  const ablate::CapacityLimits& limits() const override { return limits_; }

 private:
  ablate::CapacityLimits limits_;
};

const ablate::PluginInfo& info() {
  static const ablate::PluginInfo record{ablate::kAbiVersion, ablate::Kind::capacity_law,
                                         "blind_halving", "1.0",
                                         "halves every capacity at every stage, blind to the sums",
                                         {}};
  return record;
}

std::unique_ptr<ablate::Plugin> create(const ablate::Params&) {
  return std::make_unique<BlindHalving>();
}

}  // namespace

ABLATE_PLUGIN(info, create)
