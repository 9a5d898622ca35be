// `isalnum`: the 256 byte values, labelled alphanumeric ([0-9A-Za-z]) or not; the features are
// the byte's 8 bits, lowest first. neurlang/classifier's first demo: one hashtron whose key is the
// byte learns it exactly. Both pools hold all 256 bytes (the task is a lookup, not a sample).
#include "ablate/dataset.hpp"

namespace {

constexpr int kBits = 8;

bool alphanumeric(int byte) {
  return (byte >= '0' && byte <= '9') || (byte >= 'A' && byte <= 'Z') ||
         (byte >= 'a' && byte <= 'z');
}

class IsAlnum final : public ablate::Dataset {
 public:
  ablate::Source load(ablate::Rng& /*rng*/) const override {
    ablate::Samples all;
    all.x.resize(1 << kBits, kBits);
    for (int byte = 0; byte < (1 << kBits); ++byte) {
      for (int b = 0; b < kBits; ++b) all.x(byte, b) = static_cast<float>((byte >> b) & 1);
      all.y.push_back(alphanumeric(byte) ? 1 : 0);
    }
    ablate::Source source;
    source.name = "isalnum";
    source.shape.features = kBits;
    source.shape.classes = 2;
    source.shape.class_names = {"other", "alphanumeric"};
    source.train = all;
    source.test = all;
    return source;
  }
};

ablate::PluginInfo info() {
  return {ablate::kAbiVersion, ablate::Kind::dataset, "isalnum", "1.0",
          "the 256 bytes as 8 bits, labelled alphanumeric or not (train = test = all 256)", {}};
}

std::unique_ptr<ablate::Plugin> create(const ablate::Params&) {
  return std::make_unique<IsAlnum>();
}

}  // namespace

ABLATE_PLUGIN(info, create)
