#pragma once
// HashtronModel's state, shared by its training code (model.cpp) and its files (model_file.cpp).
#include <memory>
#include <vector>

#include "ablate/hashtron.hpp"
#include "hashtron/cache.hpp"
#include "hashtron/plan.hpp"
#include "hashtron/table.hpp"

namespace ablate {

struct HashtronModel::Impl {
  HashtronSpec spec;
  std::vector<std::uint32_t> features;  // first-layer neurons x taps feature indices
  std::unique_ptr<hashtron::Plan> plan;
  std::vector<hashtron::Table> tables;  // per unit, by global index
  std::vector<std::uint32_t> salts;     // per unit: what its next fit hashes with
  std::vector<std::uint64_t> premodulos;
  hashtron::Cache cache;
  // Per-sample buffers of a fit, kept between fits.
  std::vector<std::uint32_t> keys, hashed;
  std::vector<std::int8_t> votes;
  std::vector<std::uint8_t> correct;

  /// The unit's global index; an Error for a unit the model does not have.
  int global(UnitId unit) const;
  /// Rebuilds the wiring after `features` changed; the cache is stale afterwards.
  void rewire();
};

}  // namespace ablate
