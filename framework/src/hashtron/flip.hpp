#pragma once
// "The rest of the network with this unit negated", for one sample: the unit's bit is flipped in
// a copy of the sample's block and the change is carried downstream, recomputing only the pooled
// bits and neurons it reaches; it stops as soon as a layer sees no change.
#include <cstdint>
#include <span>
#include <vector>

#include "hashtron/plan.hpp"

namespace ablate::hashtron {

class Flipper {
 public:
  Flipper(const Plan& plan, std::span<const Table> tables);

  /// Negates bit `unit` (index within `layer`) in a copy of `block` and carries the change
  /// downstream; whether the network's output changed.
  bool flip(const Word* block, int layer, int unit);
  /// The copy's output row (after flip()).
  const Word* output() const { return plan_.output(copy_.data()); }
  /// The output bits the last flip() changed (when it returned true).
  std::span<const std::uint32_t> changed_outputs() const { return changed_; }
  /// Writes the copy made by the last flip() back into `block`.
  void store(Word* block) const;

 private:
  bool carry_through_pool(int layer);
  bool carry_into_layer(int layer);

  const Plan& plan_;
  std::span<const Table> tables_;
  std::vector<Word> copy_;
  int from_ = 0;  // words before this offset were not copied (upstream of the flip)
  std::vector<std::uint32_t> changed_;         // out bits of the current layer
  std::vector<std::uint32_t> pooled_changed_;  // its pooled bits
  std::vector<std::uint32_t> neurons_;         // next-layer neurons recomputed
};

}  // namespace ablate::hashtron
