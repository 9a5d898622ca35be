#include "stats/capacity_fit.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <vector>

namespace ablate {

LawFit capacity_law_fit(const SumCache& sums) {
  // Every unit is recorded at every stage end, so a record's distance from the end of its
  // history names its stage across units (pruning drops the same oldest stage from all).
  struct Sums {
    std::vector<double> x, y;
  };
  std::map<std::size_t, Sums> by_stage;  // keyed by distance from the newest record
  std::size_t points = 0;
  for (const auto& [unit, history] : sums.units())
    for (std::size_t t = 0; t + 1 < history.size(); ++t) {
      const SumRecord& now = history[t];
      if (history[t + 1].capacity <= 0 || now.n <= 0) continue;
      Sums& group = by_stage[history.size() - 1 - t];
      group.x.push_back(std::log(now.margin() + 1.0 / double(now.n)));
      group.y.push_back(std::log(double(history[t + 1].capacity)));
      ++points;
    }
  double sxx = 0, syy = 0, sxy = 0;
  for (const auto& [stage, group] : by_stage) {
    const auto n = static_cast<double>(group.x.size());
    double mx = 0, my = 0;
    for (std::size_t i = 0; i < group.x.size(); ++i) {
      mx += group.x[i] / n;
      my += group.y[i] / n;
    }
    for (std::size_t i = 0; i < group.x.size(); ++i) {
      sxx += (group.x[i] - mx) * (group.x[i] - mx);
      syy += (group.y[i] - my) * (group.y[i] - my);
      sxy += (group.x[i] - mx) * (group.y[i] - my);
    }
  }
  if (points == 0 || sxx <= 0) return {points, std::numeric_limits<double>::quiet_NaN()};
  if (syy <= 0) return {points, 0.0};  // one capacity for every unit: nothing follows the margin
  return {points, sxy * sxy / (sxx * syy)};
}

}  // namespace ablate
