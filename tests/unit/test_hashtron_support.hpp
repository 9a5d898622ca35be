#pragma once
// A naive, independent evaluation of hashtron networks for the tests: every key, pooled bit and
// output recomputed from the architecture and HashtronModel::unit_output alone, optionally with
// one unit negated. Supports first layers reading every feature in order (taps = 0, 1 bit each).
#include <cstdint>
#include <optional>
#include <vector>

#include "ablate/hashtron.hpp"

namespace ablate::test {

struct NaiveNet {
  const HashtronModel& model;

  /// Every layer's output bits for one row; `negated` flips one unit's output.
  std::vector<std::vector<int>> layers(const float* row, std::optional<UnitId> negated = {}) const {
    const HashtronSpec& spec = model.spec();
    std::vector<int> source;
    for (int f = 0; f < spec.input.features; ++f) source.push_back(row[f] > spec.input.threshold);
    std::vector<std::vector<int>> out;
    for (std::size_t l = 0; l < spec.layers.size(); ++l) {
      const auto& layer = spec.layers[l];
      const int key_bits = static_cast<int>(source.size()) / (l == 0 ? 1 : layer.neurons);
      std::vector<int> bits;
      for (int j = 0; j < layer.neurons; ++j) {
        std::uint32_t key = 0;
        const int first = l == 0 ? 0 : j * key_bits;
        for (int i = 0; i < key_bits; ++i)
          key |= static_cast<std::uint32_t>(source[static_cast<std::size_t>(first + i)]) << i;
        for (int b = 0; b < layer.bits; ++b) {
          const UnitId unit{static_cast<int>(l), j * layer.bits + b};
          bits.push_back(model.unit_output(unit, key) != (negated && *negated == unit));
        }
      }
      out.push_back(bits);
      if (l + 1 < spec.layers.size()) source = pool(spec.combiners[l], bits);
    }
    return out;
  }

  /// The key of a unit's neuron for one row.
  std::uint32_t key(const float* row, UnitId unit) const {
    const HashtronSpec& spec = model.spec();
    const int neuron = unit.index / spec.layers[static_cast<std::size_t>(unit.layer)].bits;
    std::vector<int> source;
    if (unit.layer == 0) {
      for (int f = 0; f < spec.input.features; ++f) source.push_back(row[f] > spec.input.threshold);
    } else {
      source = pool(spec.combiners[static_cast<std::size_t>(unit.layer - 1)],
                    layers(row)[static_cast<std::size_t>(unit.layer - 1)]);
    }
    const int neurons = spec.layers[static_cast<std::size_t>(unit.layer)].neurons;
    const int key_bits = static_cast<int>(source.size()) / (unit.layer == 0 ? 1 : neurons);
    const int first = unit.layer == 0 ? 0 : neuron * key_bits;
    std::uint32_t k = 0;
    for (int i = 0; i < key_bits; ++i)
      k |= static_cast<std::uint32_t>(source[static_cast<std::size_t>(first + i)]) << i;
    return k;
  }

  std::uint32_t output(const float* row, std::optional<UnitId> negated = {}) const {
    const auto last = layers(row, negated).back();
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < last.size(); ++i) v |= static_cast<std::uint32_t>(last[i]) << i;
    return v;
  }

  int predict(const float* row) const {
    return static_cast<int>(output(row) % static_cast<std::uint32_t>(model.spec().classes));
  }

  static std::vector<int> pool(const Combiner& c, const std::vector<int>& bits) {
    std::vector<int> out;
    const int n = static_cast<int>(bits.size());
    if (c.kind == Combiner::Kind::concat) return bits;
    if (c.kind == Combiner::Kind::majority) {
      for (int q = 0; q * c.group < n; ++q) {
        int ones = 0;
        for (int i = 0; i < c.group; ++i) ones += bits[static_cast<std::size_t>(q * c.group + i)];
        out.push_back(2 * ones > c.group);
      }
      return out;
    }
    for (int wy = 0; wy < c.grid_height; wy += c.window_height)
      for (int wx = 0; wx < c.grid_width; wx += c.window_width) {
        int ones = 0;
        for (int y = wy; y < wy + c.window_height; ++y)
          for (int x = wx; x < wx + c.window_width; ++x)
            ones += bits[static_cast<std::size_t>(y * c.grid_width + x)];
        out.push_back(2 * ones > c.window_width * c.window_height);
      }
    return out;
  }
};

}  // namespace ablate::test
