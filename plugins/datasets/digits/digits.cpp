// scikit-learn's digits (the UCI "optical recognition of handwritten digits" test set,
// Alpaydin & Kaynak 1998): 1797 8x8 images with pixel counts 0..16, one CSV row each, the label
// last. tools/setup-data.sh takes digits.csv.gz out of Debian's python3-sklearn package.
#include <charconv>
#include <cmath>
#include <string_view>
#include <tuple>

#include "ablate/dataset.hpp"
#include "ablate/formats.hpp"
#include "ablate/split.hpp"

namespace {

constexpr int kSide = 8, kPixels = kSide * kSide, kClasses = 10;
constexpr double kMaxCount = 16.0;     // each pixel counts set bits in a 4x4 block
constexpr double kTestFraction = 0.25;  // scikit-learn's default test_size

class Digits final : public ablate::Dataset {
 public:
  explicit Digits(const ablate::Params& params)
      : folder_(ablate::expand_data_path(params.string("path"))) {}

  ablate::Source load(ablate::Rng& /*rng*/) const override {
    const auto file = ablate::find_file(
        {folder_ / "digits.csv.gz", folder_ / "digits.csv"},
        "tools/setup-data.sh (it copies digits.csv.gz out of Debian's python3-sklearn .deb)");
    const auto all = parse(file);
    ablate::Source source;
    source.name = "digits";
    source.shape.features = kPixels;
    source.shape.height = source.shape.width = kSide;
    source.shape.classes = kClasses;
    for (int c = 0; c < kClasses; ++c) source.shape.class_names.push_back(std::to_string(c));
    std::tie(source.train, source.test) = ablate::hold_out_test(all, kTestFraction, "digits");
    return source;
  }

 private:
  static ablate::Samples parse(const std::filesystem::path& file) {
    const auto bytes = ablate::read_bytes(file);
    const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    std::vector<float> pixels;
    ablate::Samples samples;
    std::size_t line_number = 0;
    for (std::size_t start = 0; start < text.size();) {
      std::size_t end = text.find('\n', start);
      if (end == std::string_view::npos) end = text.size();
      std::string_view line = text.substr(start, end - start);
      start = end + 1;
      ++line_number;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.empty()) continue;
      const auto fail = [&](const std::string& why) {
        return ablate::Error(file.string() + ":" + std::to_string(line_number) + ": " + why +
                                 "; expected 64 pixel counts in [0, 16] and a label in [0, 9], "
                                 "comma-separated",
                             file.string() + ":" + std::to_string(line_number));
      };
      int column = 0;
      for (std::size_t at = 0; at <= line.size(); ++column) {
        std::size_t comma = line.find(',', at);
        if (comma == std::string_view::npos) comma = line.size();
        const std::string_view field = line.substr(at, comma - at);
        at = comma + 1;
        double value = 0;
        const auto [ptr, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
        if (ec != std::errc() || ptr != field.data() + field.size())
          throw fail("field " + std::to_string(column + 1) + " is '" + std::string(field) +
                     "', not a number");
        if (column < kPixels) {
          if (value < 0 || value > kMaxCount)
            throw fail("pixel " + std::to_string(column + 1) + " is " + std::string(field));
          pixels.push_back(static_cast<float>(value / kMaxCount));
        } else if (column == kPixels) {
          // The range first: a cast of a value no int holds is undefined.
          if (!(value >= 0 && value < kClasses) || value != std::floor(value))
            throw fail("the label is " + std::string(field));
          samples.y.push_back(static_cast<std::int32_t>(value));
        }
      }
      if (column != kPixels + 1) throw fail(std::to_string(column) + " fields");
    }
    samples.x = Eigen::Map<const ablate::Matrix>(
        pixels.data(), static_cast<Eigen::Index>(samples.y.size()), kPixels);
    return samples;
  }

  std::filesystem::path folder_;
};

ablate::PluginInfo info() {
  return {ablate::kAbiVersion,
          ablate::Kind::dataset,
          "digits",
          "1.0",
          "scikit-learn's 8x8 digits: 1797 images, 10 classes, a fixed stratified 25% as test",
          {ablate::text("path", "$ABLATE_DATA/digits",
                        "folder of digits.csv.gz (or digits.csv); $ABLATE_DATA: the environment "
                        "variable, else /usr/local/share/ablate-data")}};
}

std::unique_ptr<ablate::Plugin> create(const ablate::Params& params) {
  return std::make_unique<Digits>(params);
}

}  // namespace

ABLATE_PLUGIN(info, create)
