// Generated data with known structure, every draw from the Rng the host passes to load():
//   blobs            a Gaussian blob per class around a random centre (noise: the blobs' std);
//   spirals          one arm per class of an Archimedean spiral in the first two features
//                    (noise: the std added to every feature; features beyond two are noise);
//   parity           uniform {0,1} features labelled by the parity of their sum (the hard case
//                    for gradient methods); noise: the probability a label is flipped;
//   teacher_student  Gaussian inputs labelled by the argmax of a random one-hidden-layer tanh
//                    network (Gardner & Derrida 1989; Saad & Solla 1995); noise: the probability
//                    a label is replaced by another class.
// Blobs, spirals and parity draw classes in turn (label i mod classes), so pools are balanced.
#include <algorithm>
#include <cmath>
#include <numbers>

#include "ablate/dataset.hpp"

namespace {

constexpr double kCentreSpread = 2.0;  // blob centres ~ N(0, spread^2) per feature
constexpr double kSpiralTurns = 1.25;

class Synthetic final : public ablate::Dataset {
 public:
  explicit Synthetic(const ablate::Params& params)
      : kind_(params.string("kind")),
        n_(static_cast<std::size_t>(params.integer("n"))),
        n_test_(static_cast<std::size_t>(params.integer("n_test"))),
        features_(static_cast<int>(params.integer("features"))),
        classes_(static_cast<int>(params.integer("classes"))),
        hidden_(static_cast<int>(params.integer("teacher_hidden"))),
        noise_(params.real("noise")) {
    if (kind_ == "spirals" && features_ < 2)
      throw ablate::Error("synthetic: kind = spirals needs features >= 2, got " +
                          std::to_string(features_));
    if (kind_ == "parity" && classes_ != 2)
      throw ablate::Error("synthetic: kind = parity has 2 classes, got classes = " +
                          std::to_string(classes_));
    if ((kind_ == "parity" || kind_ == "teacher_student") && noise_ > 1)
      throw ablate::Error("synthetic: for kind = " + kind_ +
                          " noise is a probability of a wrong label; use 0 to 1, got " +
                          std::to_string(noise_));
  }

  ablate::Source load(ablate::Rng& rng) const override {
    // Structure first (centres, teacher), then the two pools from the same structure.
    ablate::Matrix centres, teacher_in, teacher_out;
    if (kind_ == "blobs") centres = gaussian(rng, classes_, features_, kCentreSpread);
    if (kind_ == "teacher_student") {
      teacher_in = gaussian(rng, hidden_, features_, 1.0 / std::sqrt(features_));
      teacher_out = gaussian(rng, classes_, hidden_, 1.0 / std::sqrt(hidden_));
    }
    const auto generate = [&](std::size_t n) {
      ablate::Samples samples;
      ablate::resize_samples(samples.x, static_cast<Eigen::Index>(n), features_);
      samples.y.resize(n);
      for (std::size_t i = 0; i < n; ++i) {
        auto row = samples.x.row(static_cast<Eigen::Index>(i));
        int label = static_cast<int>(i % static_cast<std::size_t>(classes_));
        if (kind_ == "blobs") {
          row = centres.row(label);
          add_noise(rng, row);
        } else if (kind_ == "spirals") {
          const double t = rng.uniform();
          const double angle = 2 * std::numbers::pi * (kSpiralTurns * t + double(label) / classes_);
          row.setZero();
          row(0) = static_cast<float>(t * std::cos(angle));
          row(1) = static_cast<float>(t * std::sin(angle));
          add_noise(rng, row);
        } else if (kind_ == "parity") {
          int ones = 0;
          for (int j = 0; j < features_; ++j) ones += (row(j) = static_cast<float>(rng.below(2))) > 0;
          label = flip(rng, ones % 2);
        } else {  // teacher_student
          for (int j = 0; j < features_; ++j) row(j) = static_cast<float>(rng.normal());
          const ablate::Vector hidden = (teacher_in * row.transpose()).array().tanh().transpose();
          const ablate::Vector out = (teacher_out * hidden.transpose()).transpose();
          Eigen::Index best = 0;
          out.maxCoeff(&best);
          label = flip(rng, static_cast<int>(best));
        }
        samples.y[i] = label;
      }
      return samples;
    };

    ablate::Source source;
    source.name = "synthetic_" + kind_;
    source.shape.features = features_;
    source.shape.classes = classes_;
    source.train = generate(n_);
    source.test = generate(n_test_);
    return source;
  }

 private:
  static ablate::Matrix gaussian(ablate::Rng& rng, int rows, int cols, double scale) {
    ablate::Matrix m(rows, cols);
    for (Eigen::Index i = 0; i < m.size(); ++i)
      m.data()[i] = static_cast<float>(scale * rng.normal());
    return m;
  }

  template <class Row>
  void add_noise(ablate::Rng& rng, Row&& row) const {
    for (Eigen::Index j = 0; j < row.size(); ++j) row(j) += static_cast<float>(noise_ * rng.normal());
  }

  // With probability noise_, another class drawn uniformly.
  int flip(ablate::Rng& rng, int label) const {
    if (noise_ <= 0 || rng.uniform() >= noise_) return label;
    const int other = static_cast<int>(rng.below(static_cast<std::uint64_t>(classes_ - 1)));
    return other >= label ? other + 1 : other;
  }

  std::string kind_;
  std::size_t n_, n_test_;
  int features_, classes_, hidden_;
  double noise_;
};

ablate::PluginInfo info() {
  using namespace ablate;
  return {kAbiVersion,
          Kind::dataset,
          "synthetic",
          "1.0",
          "generated data: Gaussian blobs, spirals, parity, or a random teacher network",
          {choice("kind", "blobs", {"blobs", "spirals", "parity", "teacher_student"},
                  "what to generate"),
           integer("n", 1000, 1, 1e8, "samples in the train pool"),
           integer("n_test", 1000, 0, 1e8, "samples in the test pool"),
           integer("features", 2, 1, 1 << 20, "columns of x"),
           integer("classes", 2, 2, 10000, "classes (parity: 2)"),
           real("noise", 0.1, 0.0, 100.0,
                "blobs, spirals: std of the Gaussian noise on each feature; parity, "
                "teacher_student: probability of a wrong label"),
           integer("teacher_hidden", 32, 1, 1 << 16,
                   "teacher_student: hidden units of the teacher network")}};
}

std::unique_ptr<ablate::Plugin> create(const ablate::Params& params) {
  return std::make_unique<Synthetic>(params);
}

}  // namespace

ABLATE_PLUGIN(info, create)
