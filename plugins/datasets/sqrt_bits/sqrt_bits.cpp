// `sqrt_bits`: every integer x in [0, 2^k) as its k bits (lowest first), labelled with
// floor(sqrt(x)) as a class, or with one bit of it (a binary task per output bit). After
// neurlang/classifier's square-root demo. A seeded `holdout` fraction of the inputs can form the
// test pool, to measure generalization; without it both pools hold every input.
#include <cmath>
#include <numeric>

#include "ablate/dataset.hpp"

namespace {

constexpr int kMaxBits = 20;

std::int32_t isqrt(std::int64_t x) {
  auto r = static_cast<std::int64_t>(std::sqrt(static_cast<double>(x)));
  while (r * r > x) --r;
  while ((r + 1) * (r + 1) <= x) ++r;
  return static_cast<std::int32_t>(r);
}

class SqrtBits final : public ablate::Dataset {
 public:
  explicit SqrtBits(const ablate::Params& params)
      : bits_(static_cast<int>(params.integer("bits"))),
        target_bit_(static_cast<int>(params.integer("target_bit"))),
        holdout_(params.real("holdout")) {
    const int root_bits = bits_for(isqrt((std::int64_t{1} << bits_) - 1));
    if (target_bit_ >= root_bits)
      throw ablate::Error("sqrt_bits: target_bit = " + std::to_string(target_bit_) +
                          ", but floor(sqrt(x)) of " + std::to_string(bits_) + "-bit inputs has " +
                          std::to_string(root_bits) + " bits; use -1 (the root as a class) or 0 to " +
                          std::to_string(root_bits - 1));
  }

  ablate::Source load(ablate::Rng& rng) const override {
    const std::int64_t count = std::int64_t{1} << bits_;
    std::vector<std::int64_t> order(static_cast<std::size_t>(count));
    std::iota(order.begin(), order.end(), 0);
    const auto held = static_cast<std::size_t>(std::floor(holdout_ * static_cast<double>(count)));
    if (held > 0) rng.shuffle(std::span<std::int64_t>(order));
    const std::span<const std::int64_t> all(order);

    ablate::Source source;
    source.name = "sqrt_bits";
    source.shape.features = bits_;
    const int max_root = isqrt(count - 1);
    source.shape.classes = target_bit_ < 0 ? max_root + 1 : 2;
    for (int c = 0; c < source.shape.classes; ++c) source.shape.class_names.push_back(std::to_string(c));
    source.train = samples(all.subspan(held));
    source.test = held > 0 ? samples(all.first(held)) : source.train;
    return source;
  }

 private:
  static int bits_for(std::int64_t v) {
    int bits = 1;
    while ((std::int64_t{1} << bits) <= v) ++bits;
    return bits;
  }

  ablate::Samples samples(std::span<const std::int64_t> inputs) const {
    ablate::Samples out;
    out.x.resize(static_cast<Eigen::Index>(inputs.size()), bits_);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const std::int64_t x = inputs[i];
      for (int b = 0; b < bits_; ++b)
        out.x(static_cast<Eigen::Index>(i), b) = static_cast<float>((x >> b) & 1);
      const std::int32_t root = isqrt(x);
      out.y.push_back(target_bit_ < 0 ? root : (root >> target_bit_) & 1);
    }
    return out;
  }

  int bits_, target_bit_;
  double holdout_;
};

ablate::PluginInfo info() {
  using namespace ablate;
  return {kAbiVersion,
          Kind::dataset,
          "sqrt_bits",
          "1.0",
          "integers in [0, 2^bits) as bits, labelled floor(sqrt(x)) or one bit of it",
          {integer("bits", 8, 2, kMaxBits, "input bits k: the inputs are 0 to 2^k - 1"),
           integer("target_bit", -1, -1, kMaxBits,
                   "-1: the class is floor(sqrt(x)); b: the class is bit b of it (2 classes)"),
           real("holdout", 0.0, 0.0, 0.9,
                "fraction of the inputs (seeded) that form the test pool instead of training; "
                "0: both pools hold every input")}};
}

std::unique_ptr<ablate::Plugin> create(const ablate::Params& params) {
  return std::make_unique<SqrtBits>(params);
}

}  // namespace

ABLATE_PLUGIN(info, create)
