#pragma once
// Seeded row selection shared by the host (validation and subsamples) and by dataset plugins
// whose files ship without a test split (digits, spam).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "ablate/data.hpp"
#include "ablate/random.hpp"

namespace ablate {

/// A pool's rows in two parts, each in ascending row order.
struct RowSplit {
  std::vector<std::size_t> picked, rest;
};

/// Picks `count` (<= labels.size()) rows. Stratified: each class gives its share of `count`
/// by largest remainder, so every class's count in `picked` is within one sample of its exact
/// proportion; otherwise a uniform random subset. Consumes `rng` deterministically.
RowSplit pick_rows(std::span<const std::int32_t> labels, std::size_t count, Rng& rng,
                   bool stratified = true);

/// The given rows of `samples`, in that order.
Samples select_rows(const Samples& samples, std::span<const std::size_t> rows);

/// For data without a natural test split: a stratified `test_fraction` of `all` held out as
/// {train, test}, fixed by `dataset` alone so that every experiment sees the same test rows.
std::pair<Samples, Samples> hold_out_test(const Samples& all, double test_fraction,
                                          std::string_view dataset);

}  // namespace ablate
