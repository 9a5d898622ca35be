#include "hashtron/table.hpp"

#include <algorithm>
#include <bit>
#include <utility>

namespace ablate::hashtron {
namespace {

// Up to this modulus every answer is kept in a bitset (8 KiB at most); above it, the exceptions.
constexpr std::uint64_t kDenseModulus = 1 << 16;

// Sorts votes by hashed key: LSD radix over 16-bit digits of the key, which is packed above the
// vote's sign bit. Two passes at most; one when every key fits in 16 bits.
void sort_by_key(std::vector<std::uint64_t>& entries, std::uint64_t modulus) {
  constexpr std::size_t kDigits = 1 << 16;
  std::vector<std::uint64_t> buffer(entries.size());
  std::vector<std::uint32_t> counts(kDigits);
  const int passes = modulus <= kDigits ? 1 : 2;
  for (int pass = 0; pass < passes; ++pass) {
    const int shift = 1 + 16 * pass;
    std::fill(counts.begin(), counts.end(), 0u);
    for (auto e : entries) ++counts[(e >> shift) & 0xFFFF];
    std::uint32_t sum = 0;
    for (auto& c : counts) sum += std::exchange(c, sum);
    for (auto e : entries) buffer[counts[(e >> shift) & 0xFFFF]++] = e;
    entries.swap(buffer);
  }
}

}  // namespace

Table::Table(std::uint32_t salt, std::uint64_t modulus, std::span<const std::uint32_t> exceptions)
    : salt_(salt), modulus_(modulus) {
  if (modulus <= kDenseModulus) {
    dense_.assign(static_cast<std::size_t>((modulus + 63) / 64), 0);
    for (std::uint32_t h = 0; h < modulus; ++h)
      if (base(h, salt)) dense_[h >> 6] |= std::uint64_t{1} << (h & 63);
    for (auto k : exceptions) dense_[k >> 6] ^= std::uint64_t{1} << (k & 63);
    return;
  }
  if (exceptions.empty()) return;
  const std::size_t size = std::bit_ceil(std::max<std::size_t>(8, 2 * exceptions.size()));
  slots_.assign(size, kEmpty);
  mask_ = static_cast<std::uint32_t>(size - 1);
  shift_ = 32 - static_cast<std::uint32_t>(std::countr_zero(size));
  for (auto k : exceptions) {
    if (k == kEmpty) {
      max_key_ = true;
      continue;
    }
    std::uint32_t i = (k * 0x9E3779B1u) >> shift_;
    while (slots_[i] != kEmpty) i = (i + 1) & mask_;
    slots_[i] = k;
  }
}

std::vector<std::uint32_t> Table::exceptions() const {
  std::vector<std::uint32_t> out;
  if (!dense_.empty()) {
    for (std::uint32_t h = 0; h < modulus_; ++h)
      if (at(h) != base(h, salt_)) out.push_back(h);
    return out;
  }
  for (auto k : slots_)
    if (k != kEmpty) out.push_back(k);
  if (max_key_) out.push_back(kEmpty);
  std::sort(out.begin(), out.end());
  return out;
}

Table tally_votes(std::span<const std::uint32_t> hashed, std::span<const std::int8_t> votes,
                  std::uint32_t salt, std::uint64_t modulus, const Table& previous,
                  std::int64_t* voted_keys) {
  std::vector<std::uint64_t> entries;
  for (std::size_t s = 0; s < hashed.size(); ++s)
    if (votes[s] != 0) entries.push_back((std::uint64_t{hashed[s]} << 1) | (votes[s] > 0 ? 1u : 0u));
  sort_by_key(entries, modulus);

  // Merge the voted keys (ascending) with the exceptions kept from `previous` (ascending).
  const bool same_hash = previous.salt() == salt && previous.modulus() == modulus;
  const std::vector<std::uint32_t> kept = same_hash ? previous.exceptions() : std::vector<std::uint32_t>{};
  std::vector<std::uint32_t> exceptions;
  auto old = kept.begin();
  std::int64_t keys = 0;
  for (std::size_t i = 0; i < entries.size();) {
    const auto key = static_cast<std::uint32_t>(entries[i] >> 1);
    std::int64_t sum = 0;
    for (; i < entries.size() && (entries[i] >> 1) == key; ++i) sum += (entries[i] & 1) ? 1 : -1;
    ++keys;
    for (; old != kept.end() && *old < key; ++old) exceptions.push_back(*old);
    const bool was_exception = old != kept.end() && *old == key;
    if (was_exception) ++old;
    if (sum != 0 ? (sum > 0) != Table::base(key, salt) : was_exception) exceptions.push_back(key);
  }
  exceptions.insert(exceptions.end(), old, kept.end());
  if (voted_keys) *voted_keys = keys;
  return Table(salt, modulus, exceptions);
}

}  // namespace ablate::hashtron
