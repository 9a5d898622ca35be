#include "hashtron/plan.hpp"

#include <algorithm>
#include <cmath>

#include "hashtron/spec_limits.hpp"

namespace ablate::hashtron {
namespace {

// CSR from a list of (key, value) pairs given as a function over keys: begin[k]..begin[k+1].
template <class ForEachPair>
void build_csr(std::size_t keys, ForEachPair&& for_each_pair, std::vector<std::uint32_t>& begin,
               std::vector<std::uint32_t>& values) {
  begin.assign(keys + 1, 0);
  for_each_pair([&](std::uint32_t k, std::uint32_t) { ++begin[k + 1]; });
  for (std::size_t k = 0; k < keys; ++k) begin[k + 1] += begin[k];
  values.assign(begin[keys], 0);
  std::vector<std::uint32_t> next(begin.begin(), begin.end() - 1);
  for_each_pair([&](std::uint32_t k, std::uint32_t v) { values[next[k]++] = v; });
}

PoolPlan make_pool(const Combiner& c, int bits) {
  PoolPlan pool;
  pool.pooled_bits = pooled_bits(c, bits);
  if (c.kind == Combiner::Kind::concat) return pool;
  pool.identity = false;
  pool.group_of.resize(static_cast<std::size_t>(bits));
  for (int p = 0; p < bits; ++p) {
    int q = p / c.group;
    if (c.kind == Combiner::Kind::majority2d) {
      const int x = p % c.grid_width, y = p / c.grid_width;
      q = (y / c.window_height) * (c.grid_width / c.window_width) + x / c.window_width;
    }
    pool.group_of[static_cast<std::size_t>(p)] = static_cast<std::uint32_t>(q);
  }
  build_csr(
      static_cast<std::size_t>(pool.pooled_bits),
      [&](auto&& emit) {
        for (int p = 0; p < bits; ++p)
          emit(pool.group_of[static_cast<std::size_t>(p)], static_cast<std::uint32_t>(p));
      },
      pool.member_begin, pool.members);
  return pool;
}

}  // namespace

Plan::Plan(const HashtronSpec& spec, std::span<const std::uint32_t> first_layer_features)
    : input_(spec.input),
      input_bits_(spec.input.features * spec.input.bits_per_feature),
      readout_(spec) {
  int offset = words_for(input_bits_);
  int source_offset = 0, source_bits = input_bits_;
  for (std::size_t l = 0; l < spec.layers.size(); ++l) {
    LayerPlan layer;
    layer.neurons = spec.layers[l].neurons;
    layer.bits = spec.layers[l].bits;
    layer.unit_offset = units_;
    layer.source_offset = source_offset;
    if (l == 0) {
      layer.key_bits = first_layer_key_bits(input_);
      const int bpf = input_.bits_per_feature;
      for (auto f : first_layer_features)
        for (int b = 0; b < bpf; ++b) layer.taps.push_back(f * static_cast<std::uint32_t>(bpf) + b);
    } else {
      layer.key_bits = source_bits / layer.neurons;
      layer.key_stride = layer.key_bits;
      build_csr(
          static_cast<std::size_t>(source_bits),
          [&](auto&& emit) {
            for (int q = 0; q < source_bits; ++q)
              emit(static_cast<std::uint32_t>(q), static_cast<std::uint32_t>(q / layer.key_bits));
          },
          layer.reader_begin, layer.readers);
    }
    layer.out_offset = offset;
    offset += words_for(layer.units());
    units_ += layer.units();
    if (l + 1 < spec.layers.size()) {
      PoolPlan pool = make_pool(spec.combiners[l], layer.units());
      pool.pooled_offset = layer.out_offset;
      if (!pool.identity) {
        pool.pooled_offset = offset;
        offset += words_for(pool.pooled_bits);
      }
      source_offset = pool.pooled_offset;
      source_bits = pool.pooled_bits;
      pools_.push_back(std::move(pool));
    }
    layers_.push_back(std::move(layer));
  }
  block_words_ = offset;
}

void Plan::pack(const float* row, Word* block) const {
  std::fill(block, block + words_for(input_bits_), Word{0});
  const int bpf = input_.bits_per_feature;
  if (bpf == 1) {
    for (int f = 0; f < input_.features; ++f)
      if (row[f] > input_.threshold) put_bit(block, static_cast<std::uint32_t>(f), true);
    return;
  }
  const int levels = 1 << bpf;
  for (int f = 0; f < input_.features; ++f) {
    const float scaled = row[f] * static_cast<float>(levels);
    // NaN and negatives to level 0, 1.0 and above to the top level.
    const int level = scaled >= 1.0f ? std::min(levels - 1, static_cast<int>(scaled)) : 0;
    for (int b = 0; b < bpf; ++b)
      if ((level >> b) & 1) put_bit(block, static_cast<std::uint32_t>(f * bpf + b), true);
  }
}

void Plan::forward(std::span<const Table> tables, Word* block) const {
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    const LayerPlan& layer = layers_[l];
    const Word* source = block + layer.source_offset;
    Word* out = block + layer.out_offset;
    std::fill(out, out + words_for(layer.units()), Word{0});
    const Table* unit_tables = tables.data() + layer.unit_offset;
    for (int j = 0; j < layer.neurons; ++j) {
      const std::uint32_t key = layer.key(source, j);
      for (int b = 0; b < layer.bits; ++b) {
        const int u = j * layer.bits + b;
        if (unit_tables[u].bit(key)) put_bit(out, static_cast<std::uint32_t>(u), true);
      }
    }
    if (l + 1 == layers_.size() || pools_[l].identity) continue;
    const PoolPlan& pool = pools_[l];
    Word* pooled = block + pool.pooled_offset;
    std::fill(pooled, pooled + words_for(pool.pooled_bits), Word{0});
    for (int q = 0; q < pool.pooled_bits; ++q)
      if (pool.majority(out, static_cast<std::uint32_t>(q)))
        put_bit(pooled, static_cast<std::uint32_t>(q), true);
  }
}

}  // namespace ablate::hashtron
