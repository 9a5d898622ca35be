#pragma once
// How closely the capacities a run gave its units follow the capacity law (the epic's success
// metric "premodulo values correlate with margin (R^2 > 0.7)"; issue 4, "Acceptance").
#include <cstddef>
#include <vector>

#include "ablate/stats.hpp"

namespace ablate {

struct LawFit {
  std::size_t points = 0;  // (S, next capacity) pairs found
  double r_squared = 0;    // NaN when either side is constant or there are fewer than 2 points
};

/// Over every unit and every pair of consecutive records (t, t+1) where the unit trained with a
/// capacity at t+1: the coefficient of determination of the least-squares line between
/// log(N_t / (|S_t| + 1)) (the law's target from the sum at t) and log(capacity at t+1) (what the
/// law decided from it).
LawFit capacity_law_fit(const SumCache& sums);

/// The squared Pearson correlation of paired samples; NaN if either is constant.
double r_squared(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace ablate
