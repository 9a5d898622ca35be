#include "hashtron/cache.hpp"

#include <algorithm>
#include <bit>

#include <fmt/format.h>

namespace ablate::hashtron {
namespace {

// Rows of x read whole for the fingerprint, evenly spaced: enough to notice another data set,
// cheap enough (contiguous reads) to check at every fit.
constexpr Eigen::Index kSampledRows = 64;

std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
  h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
  return h * 0xBF58476D1CE4E5B9ull;
}

}  // namespace

std::uint64_t Cache::fingerprint(const Samples& samples) {
  std::uint64_t h = mix(static_cast<std::uint64_t>(samples.x.rows()),
                        static_cast<std::uint64_t>(samples.x.cols()));
  for (auto y : samples.y) h = mix(h, static_cast<std::uint32_t>(y));
  const Eigen::Index rows = samples.x.rows();
  const Eigen::Index step = std::max<Eigen::Index>(1, rows / kSampledRows);
  for (Eigen::Index r = 0; r < rows; r += step)
    for (Eigen::Index c = 0; c < samples.x.cols(); ++c)
      h = mix(h, std::bit_cast<std::uint32_t>(samples.x(r, c)));
  return h;
}

bool Cache::holds(const Samples& samples) const {
  return source_ == &samples && labels_.size() == samples.size() &&
         fingerprint_ == fingerprint(samples);
}

void Cache::fill(const Plan& plan, std::span<const Table> tables, const Samples& samples) {
  const int classes = plan.readout().classes();
  for (std::size_t s = 0; s < samples.size(); ++s)
    if (samples.y[s] < 0 || samples.y[s] >= classes)
      throw Error(fmt::format("hashtron: sample {} has label {}; the model has classes 0 to {}", s,
                              samples.y[s], classes - 1));
  source_ = &samples;
  fingerprint_ = fingerprint(samples);
  labels_ = samples.y;
  words_ = static_cast<std::size_t>(plan.block_words());
  blocks_.assign(words_ * samples.size(), Word{0});
  parallel_for(samples.size(), 64, [&](std::size_t begin, std::size_t end) {
    for (std::size_t s = begin; s < end; ++s) {
      plan.pack(samples.x.row(static_cast<Eigen::Index>(s)).data(), block(s));
      plan.forward(tables, block(s));
    }
  });
}

void Cache::clear() {
  source_ = nullptr;
  labels_.clear();
  blocks_.clear();
}

}  // namespace ablate::hashtron
