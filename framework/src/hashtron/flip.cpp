#include "hashtron/flip.hpp"

#include <algorithm>

namespace ablate::hashtron {
namespace {

bool contains(const std::vector<std::uint32_t>& list, std::uint32_t v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

}  // namespace

Flipper::Flipper(const Plan& plan, std::span<const Table> tables)
    : plan_(plan), tables_(tables), copy_(static_cast<std::size_t>(plan.block_words())) {}

bool Flipper::flip(const Word* block, int layer, int unit) {
  const auto& layers = plan_.layers();
  from_ = layers[static_cast<std::size_t>(layer)].out_offset;
  std::copy(block + from_, block + plan_.block_words(), copy_.begin() + from_);
  flip_bit(copy_.data() + from_, static_cast<std::uint32_t>(unit));
  changed_.assign(1, static_cast<std::uint32_t>(unit));
  for (int m = layer; m + 1 < static_cast<int>(layers.size()); ++m)
    if (!carry_through_pool(m) || !carry_into_layer(m + 1)) return false;
  return true;
}

void Flipper::store(Word* block) const {
  std::copy(copy_.begin() + from_, copy_.end(), block + from_);
}

// changed_ (out bits of `layer`, already flipped in the copy) -> pooled_changed_.
bool Flipper::carry_through_pool(int layer) {
  const PoolPlan& pool = plan_.pools()[static_cast<std::size_t>(layer)];
  if (pool.identity) {
    pooled_changed_ = changed_;
    return true;
  }
  const Word* out = copy_.data() + plan_.layers()[static_cast<std::size_t>(layer)].out_offset;
  Word* pooled = copy_.data() + pool.pooled_offset;
  pooled_changed_.clear();
  for (auto p : changed_) {
    const std::uint32_t q = pool.group_of[p];
    // Recomputed with every flip of the layer applied, so a group seen twice gives one answer.
    if (contains(pooled_changed_, q)) continue;
    if (pool.majority(out, q) != get_bit(pooled, q)) {
      flip_bit(pooled, q);
      pooled_changed_.push_back(q);
    }
  }
  return !pooled_changed_.empty();
}

// pooled_changed_ (source bits of `layer`) -> changed_ (its out bits).
bool Flipper::carry_into_layer(int layer) {
  const LayerPlan& next = plan_.layers()[static_cast<std::size_t>(layer)];
  const Word* source = copy_.data() + next.source_offset;
  Word* out = copy_.data() + next.out_offset;
  const Table* unit_tables = tables_.data() + next.unit_offset;
  changed_.clear();
  neurons_.clear();
  for (auto q : pooled_changed_)
    for (auto r = next.reader_begin[q]; r < next.reader_begin[q + 1]; ++r) {
      const std::uint32_t j = next.readers[r];
      if (contains(neurons_, j)) continue;
      neurons_.push_back(j);
      const std::uint32_t key = next.key(source, static_cast<int>(j));
      for (int b = 0; b < next.bits; ++b) {
        const auto u = j * static_cast<std::uint32_t>(next.bits) + static_cast<std::uint32_t>(b);
        if (unit_tables[u].bit(key) != get_bit(out, u)) {
          flip_bit(out, u);
          changed_.push_back(u);
        }
      }
    }
  return !changed_.empty();
}

}  // namespace ablate::hashtron
