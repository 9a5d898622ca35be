// CIFAR-10 and CIFAR-100 (Krizhevsky 2009, "Learning Multiple Layers of Features from Tiny
// Images") in their binary distribution: records of the label byte(s) and 3072 pixel bytes,
// 1024 red then 1024 green then 1024 blue, each a 32x32 image in row-major order.
//   CIFAR-10:  data_batch_1.bin .. data_batch_5.bin, test_batch.bin; 1 label byte;
//              class names in batches.meta.txt.
//   CIFAR-100: train.bin, test.bin; 2 label bytes (coarse, then fine);
//              names in coarse_label_names.txt, fine_label_names.txt.
#include <algorithm>
#include <fstream>
#include <regex>

#include "ablate/dataset.hpp"
#include "ablate/formats.hpp"

namespace {

constexpr int kChannels = 3, kSide = 32, kPixels = kChannels * kSide * kSide;
const std::string kProvider =
    "the CIFAR binary version from https://www.cs.toronto.edu/~kriz/cifar.html, unpacked into "
    "the folder named by `path` (no Debian or npm package ships it)";

struct Variant {
  std::string subfolder;  // the folder the archive unpacks to
  std::string train_file, test_file;  // train_file empty: data_batch_*.bin
  std::size_t label_bytes;
  std::size_t label_offset;  // which label byte this experiment uses
  int classes;
  std::string names_file;
};

Variant variant_of(const ablate::Params& params) {
  const bool coarse = params.string("label") == "coarse";
  if (params.string("variant") == "cifar10") {
    if (coarse)
      throw ablate::Error(
          "cifar: label = coarse exists only for variant = cifar100; use label = fine");
    return {"cifar-10-batches-bin", "", "test_batch.bin", 1, 0, 10, "batches.meta.txt"};
  }
  if (coarse)
    return {"cifar-100-binary", "train.bin", "test.bin", 2, 0, 20, "coarse_label_names.txt"};
  return {"cifar-100-binary", "train.bin", "test.bin", 2, 1, 100, "fine_label_names.txt"};
}

class Cifar final : public ablate::Dataset {
 public:
  explicit Cifar(const ablate::Params& params)
      : folder_(ablate::expand_data_path(params.string("path"))),
        variant_(variant_of(params)),
        name_(params.string("variant")) {}

  ablate::Source load(ablate::Rng& /*rng*/) const override {
    const auto test_file = ablate::find_file(
        {folder_ / variant_.test_file, folder_ / variant_.subfolder / variant_.test_file},
        kProvider);
    const auto folder = test_file.parent_path();
    ablate::Source source;
    source.name = name_;
    source.shape.features = kPixels;
    source.shape.channels = kChannels;
    source.shape.height = source.shape.width = kSide;
    source.shape.classes = variant_.classes;
    source.shape.class_names = class_names(folder);
    source.train = read_records(train_files(folder));
    source.test = read_records({test_file});
    return source;
  }

 private:
  std::vector<std::filesystem::path> train_files(const std::filesystem::path& folder) const {
    if (!variant_.train_file.empty())
      return {ablate::find_file({folder / variant_.train_file}, kProvider)};
    // data_batch_1.bin .. data_batch_k.bin, consecutive: a gap means a damaged copy.
    std::vector<int> numbers;
    const std::regex batch(R"(data_batch_([0-9]+)\.bin)");
    for (const auto& entry : std::filesystem::directory_iterator(folder)) {
      std::smatch match;
      const std::string file = entry.path().filename().string();
      if (std::regex_match(file, match, batch)) numbers.push_back(std::stoi(match[1]));
    }
    std::sort(numbers.begin(), numbers.end());
    std::vector<std::filesystem::path> files;
    for (std::size_t i = 0; i < numbers.size(); ++i) {
      if (numbers[i] != static_cast<int>(i) + 1)
        throw ablate::Error("cifar: data_batch_" + std::to_string(i + 1) + ".bin is missing in " +
                                folder.string() + " (batches must run 1, 2, ... without a gap)",
                            folder.string());
      files.push_back(folder / ("data_batch_" + std::to_string(numbers[i]) + ".bin"));
    }
    if (files.empty()) ablate::find_file({folder / "data_batch_1.bin"}, kProvider);  // throws
    return files;
  }

  ablate::Samples read_records(const std::vector<std::filesystem::path>& files) const {
    const std::size_t record = variant_.label_bytes + kPixels;
    std::vector<std::vector<std::uint8_t>> contents;
    std::size_t rows = 0;
    for (const auto& file : files) {
      contents.push_back(ablate::read_bytes(file));
      if (contents.back().size() % record != 0)
        throw ablate::Error(file.string() + " holds " + std::to_string(contents.back().size()) +
                                " bytes, not a whole number of " + std::to_string(record) +
                                "-byte " + name_ + " records; is `variant` right?",
                            file.string());
      rows += contents.back().size() / record;
    }
    ablate::Samples samples;
    ablate::resize_samples(samples.x, static_cast<Eigen::Index>(rows), kPixels);
    samples.y.reserve(rows);
    Eigen::Index row = 0;
    for (std::size_t f = 0; f < files.size(); ++f) {
      const auto& bytes = contents[f];
      for (std::size_t at = 0; at < bytes.size(); at += record, ++row) {
        const int label = bytes[at + variant_.label_offset];
        if (label >= variant_.classes)
          throw ablate::Error(files[f].string() + ": record " + std::to_string(at / record) +
                                  " has label " + std::to_string(label) + ", beyond the " +
                                  std::to_string(variant_.classes) + " classes of " + name_ +
                                  "; is `variant` right?",
                              files[f].string());
        samples.y.push_back(label);
        const std::uint8_t* pixels = bytes.data() + at + variant_.label_bytes;
        float* x = samples.x.row(row).data();
        for (int i = 0; i < kPixels; ++i) x[i] = static_cast<float>(pixels[i]) / 255.0f;
      }
    }
    return samples;
  }

  // The archive's names file, one name a line; none when the file is absent.
  std::vector<std::string> class_names(const std::filesystem::path& folder) const {
    std::ifstream in(folder / variant_.names_file);
    std::vector<std::string> names;
    for (std::string line; std::getline(in, line);) {
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
      if (!line.empty()) names.push_back(line);
    }
    if (!names.empty() && names.size() != static_cast<std::size_t>(variant_.classes))
      throw ablate::Error((folder / variant_.names_file).string() + " names " +
                              std::to_string(names.size()) + " classes; " + name_ + " has " +
                              std::to_string(variant_.classes),
                          (folder / variant_.names_file).string());
    return names;
  }

  std::filesystem::path folder_;
  Variant variant_;
  std::string name_;
};

ablate::PluginInfo info() {
  return {ablate::kAbiVersion,
          ablate::Kind::dataset,
          "cifar",
          "1.0",
          "CIFAR-10/100 binary: 32x32 colour images, 10 or 100 (20 coarse) classes",
          {ablate::choice("variant", "cifar10", {"cifar10", "cifar100"}, "which CIFAR"),
           ablate::choice("label", "fine", {"fine", "coarse"},
                          "cifar100: the 100 fine classes or the 20 coarse superclasses"),
           ablate::text("path", "$ABLATE_DATA/cifar",
                        "folder of data_batch_*.bin + test_batch.bin (cifar10) or train.bin + "
                        "test.bin (cifar100), or of the archive's cifar-10-batches-bin / "
                        "cifar-100-binary folder; $ABLATE_DATA: the environment variable, else "
                        "/usr/local/share/ablate-data")}};
}

std::unique_ptr<ablate::Plugin> create(const ablate::Params& params) {
  return std::make_unique<Cifar>(params);
}

}  // namespace

ABLATE_PLUGIN(info, create)
