// Test plugin for the configuration tests: Gaussian blobs, class c centred at c on every
// feature.
#include "ablate/dataset.hpp"
#include "ablate/random.hpp"

namespace {

class CfgBlobs : public ablate::Dataset {
 public:
  explicit CfgBlobs(const ablate::Params& params)
      : samples_(static_cast<int>(params.integer("samples"))),
        features_(static_cast<int>(params.integer("features"))),
        classes_(static_cast<int>(params.integer("classes"))) {}

  ablate::Source load(ablate::Rng& rng) const override {
    ablate::Source source;
    source.name = "cfg_blobs";
    source.shape.features = source.shape.width = features_;
    source.shape.classes = classes_;
    fill(source.train, rng);
    fill(source.test, rng);
    return source;
  }

 private:
  void fill(ablate::Samples& split, ablate::Rng& rng) const {
    split.x.resize(samples_, features_);
    split.y.resize(samples_);
    for (int i = 0; i < samples_; ++i) {
      split.y[i] = i % classes_;
      for (int j = 0; j < features_; ++j)
        split.x(i, j) = static_cast<float>(split.y[i] + 0.1 * rng.normal());
    }
  }
  int samples_, features_, classes_;
};

ablate::PluginInfo info() {
  using namespace ablate;
  return {kAbiVersion,
          Kind::dataset,
          "cfg_blobs",
          "1.0",
          "configuration-test dataset",
          {integer("samples", 40, 1, 100000, "samples per pool"),
           integer("features", 2, 1, 1024, "features per sample"),
           integer("classes", 2, 2, 100, "classes")}};
}

std::unique_ptr<ablate::Plugin> create(const ablate::Params& params) {
  return std::make_unique<CfgBlobs>(params);
}

}  // namespace

ABLATE_PLUGIN(info, create)
