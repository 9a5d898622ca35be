// Seeded, optionally stratified row selection (ablate/split.hpp).
#include "ablate/split.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <string>

#include "ablate/error.hpp"

namespace ablate {

RowSplit pick_rows(std::span<const std::int32_t> labels, std::size_t count, Rng& rng,
                   bool stratified) {
  const std::size_t n = labels.size();
  if (count > n)
    throw Error("cannot pick " + std::to_string(count) + " rows out of " + std::to_string(n));
  RowSplit split;
  if (!stratified) {
    std::vector<std::size_t> rows(n);
    std::iota(rows.begin(), rows.end(), std::size_t{0});
    rng.shuffle(std::span(rows));
    split.picked.assign(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(count));
    split.rest.assign(rows.begin() + static_cast<std::ptrdiff_t>(count), rows.end());
  } else {
    std::map<std::int32_t, std::vector<std::size_t>> by_class;  // label order
    for (std::size_t row = 0; row < n; ++row) by_class[labels[row]].push_back(row);

    // Largest remainder: floor(count * n_c / n) each, then one more for the classes with the
    // largest remainders (lower label first on ties) until the quotas add up to `count`.
    struct Quota {
      std::vector<std::size_t>* rows;
      std::size_t take, remainder;
    };
    std::vector<Quota> quotas;
    std::size_t assigned = 0;
    for (auto& [label, rows] : by_class) {
      const std::size_t exact = count * rows.size();
      quotas.push_back({&rows, exact / n, exact % n});
      assigned += exact / n;
    }
    std::vector<std::size_t> order(quotas.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return quotas[a].remainder > quotas[b].remainder;
    });
    for (std::size_t i = 0; assigned < count; ++i, ++assigned) ++quotas[order[i]].take;

    for (auto& quota : quotas) {
      auto& rows = *quota.rows;
      rng.shuffle(std::span(rows));
      const auto cut = rows.begin() + static_cast<std::ptrdiff_t>(quota.take);
      split.picked.insert(split.picked.end(), rows.begin(), cut);
      split.rest.insert(split.rest.end(), cut, rows.end());
    }
  }
  std::sort(split.picked.begin(), split.picked.end());
  std::sort(split.rest.begin(), split.rest.end());
  return split;
}

Samples select_rows(const Samples& samples, std::span<const std::size_t> rows) {
  Samples out;
  resize_samples(out.x, static_cast<Eigen::Index>(rows.size()), samples.x.cols());
  out.y.resize(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    out.x.row(static_cast<Eigen::Index>(i)) = samples.x.row(static_cast<Eigen::Index>(rows[i]));
    out.y[i] = samples.y[rows[i]];
  }
  return out;
}

std::pair<Samples, Samples> hold_out_test(const Samples& all, double test_fraction,
                                          std::string_view dataset) {
  // Seed 0 and the dataset's name: independent of any experiment's seed.
  Rng rng = Rng::stream(0, "hold-out test of " + std::string(dataset));
  const auto count =
      static_cast<std::size_t>(std::llround(test_fraction * static_cast<double>(all.size())));
  const RowSplit split = pick_rows(all.y, count, rng);
  return {select_rows(all, split.rest), select_rows(all, split.picked)};
}

}  // namespace ablate
