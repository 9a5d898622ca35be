// HashtronModel: building, prediction, unit sums and the one-unit fit (ablate/hashtron.hpp).
#include <algorithm>
#include <chrono>
#include <mutex>
#include <numeric>

#include <fmt/format.h>

#include "hashtron/flip.hpp"
#include "hashtron/model_impl.hpp"

namespace ablate {
using namespace hashtron;
namespace {

// Samples per parallel chunk below which a loop stays on one thread.
constexpr std::size_t kMinParallel = 256;

void check_features(const HashtronModel::Impl& m, Eigen::Index columns) {
  if (columns != m.plan->features())
    throw Error(fmt::format("hashtron: rows have {} features, but the model was built for {}",
                            columns, m.plan->features()));
}

// chunk(begin, end, block_of) over the samples in parallel; block_of(s) is sample s's block,
// from the cache when it holds these samples, else computed into the chunk's scratch.
template <class Chunk>
void for_blocks(HashtronModel::Impl& m, const Samples& samples, Chunk&& chunk) {
  check_features(m, samples.x.cols());
  if (m.cache.holds(samples)) {
    parallel_for(samples.size(), kMinParallel, [&](std::size_t begin, std::size_t end) {
      chunk(begin, end, [&](std::size_t s) -> const Word* { return m.cache.block(s); });
    });
    return;
  }
  forward_rows(*m.plan, m.tables, samples.x, chunk);
}

// Re-evaluates unit `g` (at `unit`) on every cached sample with its current table, writing the
// changes downstream into the cache and into m.correct (which must describe the cache as it
// was); returns the samples now predicted right.
std::int64_t commit(HashtronModel::Impl& m, UnitId unit, int g) {
  const Plan& plan = *m.plan;
  const LayerPlan& layer = plan.layers()[static_cast<std::size_t>(unit.layer)];
  const Table& table = m.tables[static_cast<std::size_t>(g)];
  const auto bit = static_cast<std::uint32_t>(unit.index);
  parallel_for(m.cache.size(), kMinParallel, [&](std::size_t begin, std::size_t end) {
    Flipper flipper(plan, m.tables);
    for (std::size_t s = begin; s < end; ++s) {
      Word* block = m.cache.block(s);
      if (table.bit(m.keys[s]) == get_bit(block + layer.out_offset, bit)) continue;
      const bool output_changed = flipper.flip(block, unit.layer, unit.index);
      flipper.store(block);
      if (output_changed)
        m.correct[s] = plan.readout().correct(plan.output(block), m.cache.label(s));
    }
  });
  return std::accumulate(m.correct.begin(), m.correct.end(), std::int64_t{0});
}

}  // namespace

int HashtronModel::Impl::global(UnitId unit) const {
  const auto& layers = plan->layers();
  const int count = static_cast<int>(layers.size());
  if (unit.layer < 0 || unit.layer >= count)
    throw Error(fmt::format("hashtron: no layer {}; the model has layers 0 to {}", unit.layer,
                            count - 1));
  const LayerPlan& layer = layers[static_cast<std::size_t>(unit.layer)];
  if (unit.index < 0 || unit.index >= layer.units())
    throw Error(fmt::format("hashtron: layer {} has units 0 to {}, not {}", unit.layer,
                            layer.units() - 1, unit.index));
  return layer.unit_offset + unit.index;
}

void HashtronModel::Impl::rewire() {
  plan = std::make_unique<Plan>(spec, features);
  cache.clear();
}

HashtronModel::HashtronModel(const HashtronSpec& spec, Rng& rng) : impl_(std::make_unique<Impl>()) {
  spec.validate();
  Impl& m = *impl_;
  m.spec = spec;
  const int taps = spec.input.taps;
  if (taps > 0) {
    // Each first-layer neuron: `taps` distinct features, a partial Fisher-Yates shuffle.
    std::vector<std::uint32_t> order(static_cast<std::size_t>(spec.input.features));
    for (int j = 0; j < spec.layers.front().neurons; ++j) {
      std::iota(order.begin(), order.end(), 0u);
      for (std::size_t t = 0; t < static_cast<std::size_t>(taps); ++t) {
        std::swap(order[t], order[t + rng.below(order.size() - t)]);
        m.features.push_back(order[t]);
      }
    }
  }
  m.rewire();
  for (const auto& layer : spec.layers)
    for (int u = 0; u < layer.neurons * layer.bits; ++u) {
      const auto salt = static_cast<std::uint32_t>(rng.next());
      m.salts.push_back(salt);
      m.premodulos.push_back(layer.premodulo);
      m.tables.emplace_back(salt, layer.premodulo);
    }
}

HashtronModel::~HashtronModel() = default;

const HashtronSpec& HashtronModel::spec() const { return impl_->spec; }

std::vector<UnitLayer> HashtronModel::unit_layers() const {
  std::vector<UnitLayer> out;
  const auto& layers = impl_->plan->layers();
  for (std::size_t l = 0; l < layers.size(); ++l) {
    UnitLayer layer{"hashtron" + std::to_string(l + 1), layers[l].units(), {}};
    if (l > 0) layer.inputs.push_back(static_cast<int>(l) - 1);
    out.push_back(std::move(layer));
  }
  return out;
}

int HashtronModel::unit_count() const { return impl_->plan->units(); }

void HashtronModel::predict(const ConstMatrixRef& x, std::span<std::int32_t> out) {
  Impl& m = *impl_;
  check_features(m, x.cols());
  if (out.size() != static_cast<std::size_t>(x.rows()))
    throw Error(fmt::format("hashtron: {} rows but room for {} predictions", x.rows(), out.size()));
  const Plan& plan = *m.plan;
  forward_rows(plan, m.tables, x, [&](std::size_t begin, std::size_t end, auto&& block_of) {
    for (std::size_t s = begin; s < end; ++s)
      out[s] = plan.readout().predict(plan.output(block_of(s)));
  });
}

double HashtronModel::accuracy(const Samples& samples) {
  if (samples.size() == 0) return 0.0;
  Impl& m = *impl_;
  const Plan& plan = *m.plan;
  std::vector<std::uint8_t> right(samples.size());
  for_blocks(m, samples, [&](std::size_t begin, std::size_t end, auto&& block_of) {
    for (std::size_t s = begin; s < end; ++s)
      right[s] = plan.readout().correct(plan.output(block_of(s)), samples.y[s]);
  });
  return static_cast<double>(std::accumulate(right.begin(), right.end(), std::int64_t{0})) /
         static_cast<double>(samples.size());
}

FitResult HashtronModel::fit_unit(UnitId unit, const Samples& train, Rng& rng) {
  const auto start = std::chrono::steady_clock::now();
  Impl& m = *impl_;
  const int g = m.global(unit);
  if (train.size() == 0) throw Error("hashtron: fit_unit was given no training samples");
  check_features(m, train.x.cols());
  if (!m.cache.holds(train)) m.cache.fill(*m.plan, m.tables, train);

  const Plan& plan = *m.plan;
  const LayerPlan& layer = plan.layers()[static_cast<std::size_t>(unit.layer)];
  const int neuron = unit.index / layer.bits;
  const auto bit = static_cast<std::uint32_t>(unit.index);
  const auto gi = static_cast<std::size_t>(g);
  const std::uint32_t salt = m.spec.resalt ? static_cast<std::uint32_t>(rng.next()) : m.salts[gi];
  const std::uint64_t modulus = m.premodulos[gi];
  const std::size_t n = m.cache.size();
  m.keys.resize(n);
  m.hashed.resize(n);
  m.votes.resize(n);
  m.correct.resize(n);
  const VoteRule rule = m.spec.vote;

  // Each sample: its key, and its vote from the output as is versus negated.
  const Readout& readout = plan.readout();
  parallel_for(n, kMinParallel, [&](std::size_t begin, std::size_t end) {
    Flipper flipper(plan, m.tables);
    Readout::Score as_is, negated;
    for (std::size_t s = begin; s < end; ++s) {
      const Word* block = m.cache.block(s);
      const std::uint32_t key = layer.key(block + layer.source_offset, neuron);
      m.keys[s] = key;
      m.hashed[s] = hashtron_hash(key, salt, modulus);
      const int label = m.cache.label(s);
      readout.score(plan.output(block), as_is);
      const bool right = readout.predict(as_is) == label;
      m.correct[s] = right;
      m.votes[s] = 0;
      if (!flipper.flip(block, unit.layer, unit.index)) continue;  // the output ignores it
      negated = as_is;
      readout.rescore(negated, flipper.output(), flipper.changed_outputs());
      // keep: +1 to vote for the unit's current bit, -1 for its negation, 0: no vote.
      int keep = 0;
      if (rule == VoteRule::exact) {
        if (right != (readout.predict(negated) == label)) keep = right ? 1 : -1;
      } else {
        const int d_as_is = readout.distance(as_is, label);
        const int d_negated = readout.distance(negated, label);
        if (d_as_is != d_negated) keep = d_as_is < d_negated ? 1 : -1;
      }
      if (keep == 0) continue;
      const bool now = get_bit(block + layer.out_offset, bit);
      m.votes[s] = (keep > 0 ? now : !now) ? 1 : -1;
    }
  });

  FitResult result;
  result.premodulo = modulus;
  const std::int64_t before = std::accumulate(m.correct.begin(), m.correct.end(), std::int64_t{0});
  result.votes = std::count_if(m.votes.begin(), m.votes.end(), [](std::int8_t v) { return v != 0; });
  std::int64_t after = before;
  if (result.votes == 0) {
    result.accepted = false;  // the data asks for nothing: the unit stays as it is
  } else {
    Table candidate = tally_votes(m.hashed, m.votes, salt, modulus, m.tables[gi], &result.keys);
    std::swap(m.tables[gi], candidate);  // candidate now holds the previous table
    after = commit(m, unit, g);
    result.accepted = !(m.spec.reject_worse && after < before);
    if (result.accepted) {
      m.salts[gi] = salt;
    } else {
      std::swap(m.tables[gi], candidate);
      commit(m, unit, g);
    }
  }
  result.accuracy_before = static_cast<double>(before) / static_cast<double>(n);
  result.accuracy_after = static_cast<double>(after) / static_cast<double>(n);
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

void HashtronModel::accumulate_unit_sums(const Samples& samples, std::span<std::int64_t> sums) {
  Impl& m = *impl_;
  const Plan& plan = *m.plan;
  if (sums.size() != static_cast<std::size_t>(plan.units()))
    throw Error(fmt::format("hashtron: room for {} unit sums, but the model has {} units",
                            sums.size(), plan.units()));
  std::mutex merge;
  for_blocks(m, samples, [&](std::size_t begin, std::size_t end, auto&& block_of) {
    std::vector<std::int64_t> ones(sums.size());
    for (std::size_t s = begin; s < end; ++s) {
      const Word* block = block_of(s);
      for (const LayerPlan& layer : plan.layers())
        for (int u = 0; u < layer.units(); ++u)
          ones[static_cast<std::size_t>(layer.unit_offset + u)] +=
              get_bit(block + layer.out_offset, static_cast<std::uint32_t>(u));
    }
    // Integer sums: the merge order does not change the result.
    const auto count = static_cast<std::int64_t>(end - begin);
    std::lock_guard lock(merge);
    for (std::size_t u = 0; u < sums.size(); ++u) sums[u] += 2 * ones[u] - count;
  });
}

void HashtronModel::apply_capacity(UnitId unit, double capacity) {
  set_premodulo(unit, premodulo_for_capacity(capacity));
}

void HashtronModel::set_premodulo(UnitId unit, std::uint64_t premodulo) {
  if (premodulo < 1 || premodulo > kNoPremodulo)
    throw Error(fmt::format("hashtron: premodulo {} for unit {}.{}; use 1 to 2^32", premodulo,
                            unit.layer, unit.index));
  impl_->premodulos[static_cast<std::size_t>(impl_->global(unit))] = premodulo;
}

std::uint64_t HashtronModel::premodulo(UnitId unit) const {
  return impl_->premodulos[static_cast<std::size_t>(impl_->global(unit))];
}

bool HashtronModel::unit_output(UnitId unit, std::uint32_t key) const {
  return impl_->tables[static_cast<std::size_t>(impl_->global(unit))].bit(key);
}

}  // namespace ablate
