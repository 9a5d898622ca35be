#pragma once
// The wiring of a hashtron network, fixed once built: where each neuron's key bits come from,
// how a combiner pools a layer's bits, and where each row lives in a sample's block of words.
//
// One sample's block: [packed input][layer 1 bits][layer 1 pooled]...[last layer bits]
// (a pooled row exists only where the combiner pools; otherwise the next layer reads the bits).
#include <cstdint>
#include <span>
#include <vector>

#include "ablate/hashtron.hpp"
#include "hashtron/bits.hpp"
#include "hashtron/readout.hpp"
#include "hashtron/table.hpp"

namespace ablate::hashtron {

struct LayerPlan {
  int neurons = 0, bits = 1;
  int key_bits = 0;
  // Keys from consecutive source bits: neuron j reads [j * key_stride, j * key_stride + key_bits).
  int key_stride = 0;
  // Or, when not empty, from these source bits: neurons x key_bits (tap i -> key bit i).
  std::vector<std::uint32_t> taps;
  // Source bit -> the neurons whose key reads it (CSR); built for every layer but the first,
  // whose source (the input) never changes while fitting.
  std::vector<std::uint32_t> reader_begin, readers;
  int unit_offset = 0;    // global index of the layer's first unit
  int source_offset = 0;  // word offsets in a sample block
  int out_offset = 0;

  int units() const { return neurons * bits; }
  std::uint32_t key(const Word* source, int neuron) const {
    if (taps.empty())
      return extract_bits(source, static_cast<std::uint32_t>(neuron * key_stride), key_bits);
    const std::uint32_t* t = taps.data() + static_cast<std::size_t>(neuron) * key_bits;
    std::uint32_t k = 0;
    for (int i = 0; i < key_bits; ++i) k |= static_cast<std::uint32_t>(get_bit(source, t[i])) << i;
    return k;
  }
};

/// The pooling half of a combiner (the concatenation half is the next layer's key_stride).
struct PoolPlan {
  bool identity = true;  // concat: nothing to pool
  int pooled_bits = 0;
  int pooled_offset = 0;
  std::vector<std::uint32_t> group_of;                // out bit -> pooled bit
  std::vector<std::uint32_t> member_begin, members;   // pooled bit -> its out bits

  /// Pooled bit q of an out row: 1 when more than half of its group is 1.
  bool majority(const Word* out, std::uint32_t q) const {
    int ones = 0;
    for (auto i = member_begin[q]; i < member_begin[q + 1]; ++i) ones += get_bit(out, members[i]);
    return 2 * ones > static_cast<int>(member_begin[q + 1] - member_begin[q]);
  }
};

class Plan {
 public:
  /// `first_layer_features`: first layer neurons x spec.input.taps feature indices (empty when
  /// taps = 0). The spec must be valid.
  Plan(const HashtronSpec& spec, std::span<const std::uint32_t> first_layer_features);

  const std::vector<LayerPlan>& layers() const { return layers_; }
  const std::vector<PoolPlan>& pools() const { return pools_; }
  const Readout& readout() const { return readout_; }
  int block_words() const { return block_words_; }
  int units() const { return units_; }
  int features() const { return input_.features; }

  /// Packs a row of input.features floats into the block's input row.
  void pack(const float* row, Word* block) const;
  /// Computes every layer's rows of a block from its packed input.
  void forward(std::span<const Table> tables, Word* block) const;
  /// The output layer's row of a block.
  const Word* output(const Word* block) const { return block + layers_.back().out_offset; }

 private:
  HashtronInputSpec input_;
  int input_bits_ = 0;
  std::vector<LayerPlan> layers_;
  std::vector<PoolPlan> pools_;
  Readout readout_;
  int block_words_ = 0;
  int units_ = 0;
};

}  // namespace ablate::hashtron
