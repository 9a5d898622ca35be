#include "hashtron/readout.hpp"

#include <algorithm>
#include <bit>

namespace ablate::hashtron {

Readout::Readout(const HashtronSpec& spec)
    : code_(spec.output),
      classes_(spec.classes),
      bits_(spec.layers.back().neurons * spec.layers.back().bits) {
  if (code_ == OutputCode::groups) {
    group_ = bits_ / classes_;
    return;
  }
  codes_.resize(static_cast<std::size_t>(classes_));
  for (std::uint32_t v = 0; v < (std::uint32_t{1} << bits_); ++v)
    codes_[v % static_cast<std::uint32_t>(classes_)].push_back(v);
}

int Readout::predict(const Word* output) const {
  if (code_ == OutputCode::binary)
    return static_cast<int>(extract_bits(output, 0, bits_) % static_cast<std::uint32_t>(classes_));
  int best = 0, most = ones(output, 0);
  for (int c = 1; c < classes_; ++c)
    if (const int n = ones(output, c); n > most) {  // strictly: ties stay with the lower class
      best = c;
      most = n;
    }
  return best;
}

void Readout::score(const Word* output, Score& out) const {
  if (code_ == OutputCode::binary) {
    out.value = extract_bits(output, 0, bits_);
    return;
  }
  out.ones.resize(static_cast<std::size_t>(classes_));
  for (int c = 0; c < classes_; ++c) out.ones[static_cast<std::size_t>(c)] = ones(output, c);
}

void Readout::rescore(Score& score, const Word* output,
                      std::span<const std::uint32_t> flipped) const {
  for (auto bit : flipped) {
    if (code_ == OutputCode::binary)
      score.value ^= std::uint32_t{1} << bit;
    else
      score.ones[bit / static_cast<std::uint32_t>(group_)] += get_bit(output, bit) ? 1 : -1;
  }
}

int Readout::predict(const Score& score) const {
  if (code_ == OutputCode::binary)
    return static_cast<int>(score.value % static_cast<std::uint32_t>(classes_));
  // The first maximum: ties to the lower class.
  return static_cast<int>(std::max_element(score.ones.begin(), score.ones.end()) -
                          score.ones.begin());
}

int Readout::distance(const Score& score, int label) const {
  if (code_ == OutputCode::binary) {
    int best = bits_;
    for (auto code : codes_[static_cast<std::size_t>(label)])
      best = std::min(best, std::popcount(score.value ^ code));
    return best;
  }
  const int mine = score.ones[static_cast<std::size_t>(label)];
  int need = 0;  // to beat every lower class and reach every higher one
  for (int c = 0; c < classes_; ++c) {
    const int other = score.ones[static_cast<std::size_t>(c)];
    if (c < label) need = std::max(need, other - mine + 1);
    if (c > label) need = std::max(need, other - mine);
  }
  return need;
}

}  // namespace ablate::hashtron
