#pragma once
// Capacity laws (DESIGN.md; the backward-pipeline epic, shared/seeds/002): from a unit's sum
// history, an estimate S~ of its sum; the next capacity is N / (|S~| + 1), its change per step
// clamped, bounded to [1, N]. Laws are pure functions of the history.
#include <algorithm>
#include <cmath>
#include <span>

#include "ablate/plugin.hpp"
#include "ablate/stats.hpp"

namespace ablate {

struct CapacityLimits {
  double max_factor = 10.0;   // the new capacity stays within [c / f, c * f] of the current c
  double max_percent = 0.0;   // if > 0, also within c * (1 +- p/100)
};

/// Target, clamp and bounds: the part every law shares.
inline double next_capacity(double estimate_s, std::int64_t n, double current,
                            const CapacityLimits& limits) {
  const double upper = std::max<double>(1.0, static_cast<double>(n));
  double target = static_cast<double>(n) / (std::abs(estimate_s) + 1.0);
  if (current > 0) {
    double lo = current / limits.max_factor, hi = current * limits.max_factor;
    if (limits.max_percent > 0) {
      lo = std::max(lo, current * (1.0 - limits.max_percent / 100.0));
      hi = std::min(hi, current * (1.0 + limits.max_percent / 100.0));
    }
    target = std::clamp(target, lo, hi);
  }
  return std::clamp(target, 1.0, upper);
}

class ABLATE_API CapacityLaw : public Plugin {
 public:
  /// S~ from a unit's history (oldest first, never empty).
  virtual double estimate(std::span<const SumRecord> history) const = 0;
  virtual const CapacityLimits& limits() const = 0;

  /// The capacity the unit gets next, given the one it has (0: none yet).
  double next(std::span<const SumRecord> history, double current) const {
    return next_capacity(estimate(history), history.back().n, current, limits());
  }
};

}  // namespace ablate
