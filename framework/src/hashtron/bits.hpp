#pragma once
// Bit rows: a sample's bits packed into 64-bit words, bit p at word p / 64, position p % 64.
#include <algorithm>
#include <bit>
#include <cstdint>

namespace ablate::hashtron {

using Word = std::uint64_t;

constexpr int words_for(int bits) { return (bits + 63) / 64; }

inline bool get_bit(const Word* row, std::uint32_t p) { return (row[p >> 6] >> (p & 63)) & 1u; }
inline void flip_bit(Word* row, std::uint32_t p) { row[p >> 6] ^= Word{1} << (p & 63); }
inline void put_bit(Word* row, std::uint32_t p, bool v) {
  const Word mask = Word{1} << (p & 63);
  row[p >> 6] = v ? (row[p >> 6] | mask) : (row[p >> 6] & ~mask);
}

/// Bits [p, p + n) as an integer, bit p lowest; n <= 32. Reads row[p / 64 + 1] only when the
/// run crosses into it.
inline std::uint32_t extract_bits(const Word* row, std::uint32_t p, int n) {
  const std::uint32_t w = p >> 6, s = p & 63;
  Word v = row[w] >> s;
  if (s + static_cast<std::uint32_t>(n) > 64) v |= row[w + 1] << (64 - s);
  return static_cast<std::uint32_t>(v & ((Word{1} << n) - 1));
}

/// Ones among bits [p, p + n).
inline int count_ones(const Word* row, std::uint32_t p, std::uint32_t n) {
  int ones = 0;
  for (std::uint32_t w = p >> 6, s = p & 63; n > 0; ++w, s = 0) {
    const std::uint32_t take = std::min<std::uint32_t>(64 - s, n);
    Word bits = row[w] >> s;
    if (take < 64) bits &= (Word{1} << take) - 1;
    ones += std::popcount(bits);
    n -= take;
  }
  return ones;
}

}  // namespace ablate::hashtron
