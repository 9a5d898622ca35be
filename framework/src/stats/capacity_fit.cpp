#include "stats/capacity_fit.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace ablate {

double r_squared(const std::vector<double>& x, const std::vector<double>& y) {
  const std::size_t n = std::min(x.size(), y.size());
  if (n < 2) return std::numeric_limits<double>::quiet_NaN();
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < n; ++i) {
    mx += x[i];
    my += y[i];
  }
  mx /= static_cast<double>(n);
  my /= static_cast<double>(n);
  double sxx = 0, syy = 0, sxy = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
    sxy += (x[i] - mx) * (y[i] - my);
  }
  if (sxx <= 0 || syy <= 0) return std::numeric_limits<double>::quiet_NaN();
  return sxy * sxy / (sxx * syy);
}

LawFit capacity_law_fit(const SumCache& sums) {
  std::vector<double> target, decided;
  for (const auto& [unit, history] : sums.units())
    for (std::size_t t = 0; t + 1 < history.size(); ++t) {
      if (history[t + 1].capacity <= 0 || history[t].n <= 0) continue;
      target.push_back(std::log(double(history[t].n) / (std::abs(double(history[t].s)) + 1.0)));
      decided.push_back(std::log(double(history[t + 1].capacity)));
    }
  return {target.size(), r_squared(target, decided)};
}

}  // namespace ablate
