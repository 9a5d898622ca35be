#pragma once
// How the output layer's bits name a class (ablate/hashtron.hpp, OutputCode), and how far an
// output is from naming the right one (the graded vote).
#include <cstdint>
#include <span>
#include <vector>

#include "ablate/hashtron.hpp"
#include "hashtron/bits.hpp"

namespace ablate::hashtron {

class Readout {
 public:
  explicit Readout(const HashtronSpec& spec);
  int classes() const { return classes_; }

  int predict(const Word* output) const;
  bool correct(const Word* output, int label) const { return predict(output) == label; }

  /// An output summarized for the readout, cheap to update when a few output bits flip: its
  /// integer (binary) or its ones per class group (groups).
  struct Score {
    std::uint32_t value = 0;
    std::vector<int> ones;
  };
  void score(const Word* output, Score& out) const;
  /// Updates `score` of an output whose bits `flipped` have changed to their values in `output`.
  void rescore(Score& score, const Word* output, std::span<const std::uint32_t> flipped) const;
  int predict(const Score& score) const;
  /// How many output bits must change, at least, for the output to name `label` (0 iff it
  /// does): Hamming distance to the nearest code (binary), or the ones the label's group lacks
  /// to win (groups).
  int distance(const Score& score, int label) const;

 private:
  int ones(const Word* output, int label) const {
    return count_ones(output, static_cast<std::uint32_t>(label * group_),
                      static_cast<std::uint32_t>(group_));
  }

  OutputCode code_;
  int classes_, bits_, group_ = 0;
  std::vector<std::vector<std::uint32_t>> codes_;  // binary: per class, every output naming it
};

}  // namespace ablate::hashtron
