#pragma once
// One hashtron's answer: hashed key -> bit, a compact static map. Every hashed key has a seeded
// pseudo-random base answer (what an untrained unit gives, and what keys no sample ever voted on
// keep); the table stores only the exceptions, the hashed keys learned to answer the opposite:
// as a bitset of every answer when the modulus is small, else as an open-addressing set. Either
// way a lookup is O(1) and the answers are the same.
#include <cstdint>
#include <span>
#include <vector>

#include "ablate/hashtron.hpp"

namespace ablate::hashtron {

class Table {
 public:
  /// `exceptions`: hashed keys in [0, modulus), ascending, answering the opposite of the base.
  explicit Table(std::uint32_t salt = 0, std::uint64_t modulus = kNoPremodulo,
                 std::span<const std::uint32_t> exceptions = {});

  bool bit(std::uint32_t key) const { return at(hashtron_hash(key, salt_, modulus_)); }

  bool at(std::uint32_t hashed) const {
    if (!dense_.empty()) return (dense_[hashed >> 6] >> (hashed & 63)) & 1u;
    return base(hashed, salt_) != contains(hashed);
  }

  /// The pseudo-random answer of a hashed key before any learning.
  static bool base(std::uint32_t hashed, std::uint32_t salt) {
    return hashtron_mix(hashed, salt ^ 0xA5A5A5A5u) >> 31;
  }

  std::uint32_t salt() const { return salt_; }
  std::uint64_t modulus() const { return modulus_; }
  /// Ascending.
  std::vector<std::uint32_t> exceptions() const;

 private:
  static constexpr std::uint32_t kEmpty = 0xFFFFFFFFu;
  bool contains(std::uint32_t hashed) const {
    if (slots_.empty()) return false;
    if (hashed == kEmpty) return max_key_;  // the one key the empty marker cannot hold
    for (std::uint32_t i = (hashed * 0x9E3779B1u) >> shift_;; i = (i + 1) & mask_) {
      const std::uint32_t k = slots_[i];
      if (k == hashed) return true;
      if (k == kEmpty) return false;
    }
  }

  std::uint32_t salt_;
  std::uint64_t modulus_;
  std::vector<std::uint64_t> dense_;  // every answer, when the modulus is small
  std::vector<std::uint32_t> slots_;  // else the exceptions, open addressing
  std::uint32_t shift_ = 32, mask_ = 0;
  bool max_key_ = false;
};

/// The table a fit leaves: `hashed[s]` is sample s's hashed key under (salt, modulus), `votes[s]`
/// +1 (wants 1), -1 (wants 0) or 0. A key whose votes sum to nonzero answers their sign; every
/// other key keeps its answer in `previous` when that hashed with the same salt and modulus,
/// else its base answer. `voted_keys` receives how many distinct keys were voted on.
Table tally_votes(std::span<const std::uint32_t> hashed, std::span<const std::int8_t> votes,
                  std::uint32_t salt, std::uint64_t modulus, const Table& previous,
                  std::int64_t* voted_keys = nullptr);

}  // namespace ablate::hashtron
