// Test plugin for the configuration tests: a capacity law estimating S by the last sum.
#include "ablate/capacity.hpp"

namespace {

class CfgLast : public ablate::CapacityLaw {
 public:
  explicit CfgLast(const ablate::Params& params)
      : limits_{params.real("max_factor"), params.real("max_percent")} {}
  double estimate(std::span<const ablate::SumRecord> history) const override {
    return history.back().s;
  }
  const ablate::CapacityLimits& limits() const override { return limits_; }

 private:
  ablate::CapacityLimits limits_;
};

ablate::PluginInfo info() {
  using namespace ablate;
  return {kAbiVersion,
          Kind::capacity_law,
          "cfg_last",
          "1.0",
          "configuration-test capacity law",
          {real("max_factor", 10.0, 1, kInf, "largest change per step, as a factor"),
           real("max_percent", 0.0, 0, 100, "largest change per step in percent (0: off)")}};
}

std::unique_ptr<ablate::Plugin> create(const ablate::Params& params) {
  return std::make_unique<CfgLast>(params);
}

}  // namespace

ABLATE_PLUGIN(info, create)
