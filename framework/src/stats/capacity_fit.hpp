#pragma once
// How closely the capacities a run gave its units follow their margins (the epic's success
// metric "premodulo values correlate with margin (R^2 > 0.7)"; issue 18).
//
// Measured across units, within each stage: at a stage, does a unit with a smaller margin get a
// larger premodulo than a unit with a larger one? Pooling over stages instead would reward any
// law whose capacities drift while the margins drift (a law that halves every capacity at every
// stage, blind to the sums, scored 0.99 that way); within a stage such a law changes no unit's
// rank and scores 0.
#include <cstddef>
#include <vector>

#include "ablate/stats.hpp"

namespace ablate {

struct LawFit {
  std::size_t points = 0;  // (margin, next capacity) pairs found
  double r_squared = 0;    // NaN when the margins never differ within a stage, or no pairs
};

/// Pairs each unit's record at t, (margin m_t, N_t), with the capacity it got for t+1, and
/// groups the pairs by stage. R^2 is that of one least-squares line through every group's
/// points, each group about its own mean (the within-stage fit), of
/// log(capacity at t+1) against log(m_t + 1/N_t): 1 when the premodulo (capacity^2, for a
/// hashtron) is a power of the margin across units, as N/(|S|+1) is; 0 when the capacities do
/// not vary across units at all. Records without a next capacity (none: 0) are left out.
LawFit capacity_law_fit(const SumCache& sums);

}  // namespace ablate
