// Fashion-MNIST (Xiao, Rasul & Vollgraf 2017, arXiv:1708.07747): 60000 + 10000 grey 28x28
// images of ten kinds of clothing, in the IDX files of Debian's dataset-fashion-mnist.
#include "ablate/dataset.hpp"
#include "ablate/formats.hpp"

namespace {

class FashionMnist final : public ablate::Dataset {
 public:
  explicit FashionMnist(const ablate::Params& params)
      : folder_(ablate::expand_data_path(params.string("path"))) {}

  ablate::Source load(ablate::Rng& /*rng*/) const override {
    return ablate::read_idx_dataset(
        folder_, "fashion_mnist",
        {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
         "Bag", "Ankle boot"},
        "tools/setup-data.sh (or: apt-get install dataset-fashion-mnist)");
  }

 private:
  std::filesystem::path folder_;
};

ablate::PluginInfo info() {
  return {ablate::kAbiVersion,
          ablate::Kind::dataset,
          "fashion_mnist",
          "1.0",
          "Fashion-MNIST: 28x28 grey clothing images, 10 classes, 60000 train + 10000 test",
          {ablate::text("path", "/usr/share/datasets/fashion-mnist",
                        "folder of {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]; a "
                        "leading $ABLATE_DATA is expanded")}};
}

std::unique_ptr<ablate::Plugin> create(const ablate::Params& params) {
  return std::make_unique<FashionMnist>(params);
}

}  // namespace

ABLATE_PLUGIN(info, create)
