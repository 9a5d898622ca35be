#pragma once
// What the capacity-law plugins share: the clamp parameters of the backward-pipeline epic
// (shared/seeds/002, "Capacity Control Engine": at most 10x change per step, optionally a fixed
// percent) and the plugin record around a law. Included by each law's folder; not a plugin.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ablate/capacity.hpp"

namespace ablate::capacity_laws {

inline std::vector<ParamSpec> limit_params() {
  return {
      real("max_factor", 10.0, 1.0, kInf,
           "the capacity changes by at most this factor per step (up or down)"),
      real("max_percent", 0.0, 0.0, 100.0,
           "if > 0, also by at most this percent of the current capacity per step"),
  };
}

inline CapacityLimits limits_from(const Params& params) {
  return {params.real("max_factor"), params.real("max_percent")};
}

/// A law whose estimate of S~ is `Estimate` (a callable over the history).
template <class Estimate>
class Law final : public CapacityLaw {
 public:
  Law(const Params& params, Estimate estimate)
      : limits_(limits_from(params)), estimate_(std::move(estimate)) {}
  double estimate(std::span<const SumRecord> history) const override { return estimate_(history); }
  const CapacityLimits& limits() const override { return limits_; }

 private:
  CapacityLimits limits_;
  Estimate estimate_;
};

/// The PluginInfo of a law: its own parameters, then the shared limits.
inline PluginInfo law_info(std::string name, std::string summary, std::vector<ParamSpec> own) {
  auto params = std::move(own);
  for (auto& spec : limit_params()) params.push_back(std::move(spec));
  return {kAbiVersion, Kind::capacity_law, std::move(name), "1.0", std::move(summary),
          std::move(params)};
}

}  // namespace ablate::capacity_laws
