// Capacity law `@name@` (ablate/capacity.hpp): from a unit's sum history, the estimate S~ the
// host turns into the next capacity N / (|S~| + 1), clamped per step and bounded to [1, N]. As
// written, S~ is the mean of the last `window` sums.
#include <algorithm>

#include "ablate/capacity.hpp"

namespace {

class @Name@ final : public ablate::CapacityLaw {
 public:
  explicit @Name@(const ablate::Params& params)
      : window_(static_cast<std::size_t>(params.integer("window"))),
        limits_{params.real("max_factor"), params.real("max_percent")} {}

  /// S~ from the history, oldest first and never empty.
  double estimate(std::span<const ablate::SumRecord> history) const override {
    const std::size_t k = std::min(window_, history.size());
    double sum = 0;
    for (const auto& record : history.last(k)) sum += static_cast<double>(record.s);
    return sum / static_cast<double>(k);
  }

  /// How far one step may move the capacity.
  const ablate::CapacityLimits& limits() const override { return limits_; }

 private:
  std::size_t window_;
  ablate::CapacityLimits limits_;
};

ablate::PluginInfo info() {
  return {ablate::kAbiVersion, ablate::Kind::capacity_law, "@name@", "0.1",
          "capacity from the mean of the unit's last `window` sums",
          {ablate::integer("window", 3, 1, 1000, "sums averaged"),
           ablate::real("max_factor", 10.0, 1.0, 1e6, "a step keeps the capacity within [c/f, c*f]"),
           ablate::real("max_percent", 0.0, 0.0, 100.0,
                        "if > 0, a step also keeps it within c*(1 +- p/100)")}};
}

std::unique_ptr<ablate::Plugin> create(const ablate::Params& params) {
  return std::make_unique<@Name@>(params);
}

}  // namespace

ABLATE_PLUGIN(info, create)
