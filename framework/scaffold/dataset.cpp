// Dataset `@name@` (ablate/dataset.hpp): its train and test pools; the host carves validation
// from train, subsamples and builds task sequences. As written it draws `n` samples of two
// classes, two Gaussian blobs `separation` apart; replace load() with a reader of your files
// (ablate/formats.hpp reads IDX, CSV and more; a missing file is an ablate::Error naming it).
#include "ablate/dataset.hpp"

namespace {

class @Name@ final : public ablate::Dataset {
 public:
  explicit @Name@(const ablate::Params& params)
      : n_(params.integer("n")), separation_(params.real("separation")) {}

  /// Every draw from `rng`: the same seed gives the same data.
  ablate::Source load(ablate::Rng& rng) const override {
    ablate::Source source;
    source.name = "@name@";
    source.shape.features = kFeatures;
    source.shape.width = kFeatures;
    source.shape.classes = 2;
    source.shape.class_names = {"left", "right"};
    source.train = draw(n_, rng);
    source.test = draw(n_ / 4 + 1, rng);
    return source;
  }

 private:
  static constexpr int kFeatures = 8;

  ablate::Samples draw(std::int64_t n, ablate::Rng& rng) const {
    ablate::Samples samples;
    ablate::resize_samples(samples.x, n, kFeatures);
    samples.y.resize(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
      const int label = static_cast<int>(i % 2);  // balanced classes
      samples.y[static_cast<std::size_t>(i)] = label;
      for (int j = 0; j < kFeatures; ++j)
        samples.x(i, j) = static_cast<float>(rng.normal() + (label ? 0.5 : -0.5) * separation_);
    }
    return samples;
  }

  std::int64_t n_;
  double separation_;
};

ablate::PluginInfo info() {
  return {ablate::kAbiVersion, ablate::Kind::dataset, "@name@", "0.1",
          "two Gaussian blobs in 8 features, `separation` apart",
          {ablate::integer("n", 1000, 8, 10'000'000, "training samples (a quarter as many test)"),
           ablate::real("separation", 2.0, 0.0, 100.0, "distance of the blobs' centres per feature")}};
}

std::unique_ptr<ablate::Plugin> create(const ablate::Params& params) {
  return std::make_unique<@Name@>(params);
}

}  // namespace

ABLATE_PLUGIN(info, create)
