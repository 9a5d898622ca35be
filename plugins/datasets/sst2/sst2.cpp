// SST-2 (Socher et al. 2013, "Recursive Deep Models for Semantic Compositionality Over a
// Sentiment Treebank"), as GLUE distributes it: train.tsv and dev.tsv with the header
// "sentence<TAB>label", labels 0 (negative) and 1 (positive). dev.tsv is the test pool (GLUE's
// test.tsv has no labels). Sentences become hashed bag-of-words rows (ablate/text_features.hpp).
#include <algorithm>
#include <string_view>

#include "ablate/dataset.hpp"
#include "ablate/formats.hpp"
#include "ablate/text_features.hpp"

namespace {

const std::string kProvider =
    "the GLUE SST-2 files train.tsv and dev.tsv (https://gluebenchmark.com/tasks), placed in "
    "the folder named by `path` (no Debian or npm package ships them)";

std::vector<std::string_view> split(std::string_view line, char separator) {
  std::vector<std::string_view> fields;
  for (std::size_t at = 0;;) {
    const std::size_t end = line.find(separator, at);
    fields.push_back(line.substr(at, end == std::string_view::npos ? end : end - at));
    if (end == std::string_view::npos) return fields;
    at = end + 1;
  }
}

class Sst2 final : public ablate::Dataset {
 public:
  explicit Sst2(const ablate::Params& params)
      : folder_(ablate::expand_data_path(params.string("path"))),
        features_(ablate::text_features_from(params)) {}

  ablate::Source load(ablate::Rng& /*rng*/) const override {
    const auto train = ablate::find_file({folder_ / "train.tsv"}, kProvider);
    const auto dev = ablate::find_file({folder_ / "dev.tsv"}, kProvider);
    ablate::Source source;
    source.name = "sst2";
    source.shape.features = features_.features;
    source.shape.classes = 2;
    source.shape.class_names = {"negative", "positive"};
    source.train = read(train);
    source.test = read(dev);
    return source;
  }

 private:
  ablate::Samples read(const std::filesystem::path& file) const {
    const auto bytes = ablate::read_bytes(file);
    const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    std::vector<std::string> sentences;
    ablate::Samples samples;
    std::size_t sentence_column = 0, label_column = 0, line_number = 0;
    bool header_seen = false;
    for (std::string_view line : split(text, '\n')) {
      ++line_number;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.empty()) continue;
      const std::string where = file.string() + ":" + std::to_string(line_number);
      const auto fields = split(line, '\t');
      if (!header_seen) {
        header_seen = true;
        const auto column = [&](std::string_view name) {
          for (std::size_t i = 0; i < fields.size(); ++i)
            if (fields[i] == name) return i;
          throw ablate::Error(where + ": the header has no '" + std::string(name) +
                                  "' column; expected the GLUE header \"sentence<TAB>label\"",
                              where);
        };
        sentence_column = column("sentence");
        label_column = column("label");
        continue;
      }
      if (fields.size() <= std::max(sentence_column, label_column))
        throw ablate::Error(where + ": " + std::to_string(fields.size()) +
                                " tab-separated field(s); the header promises a sentence and "
                                "a label",
                            where);
      const std::string_view label = fields[label_column];
      if (label != "0" && label != "1")
        throw ablate::Error(where + ": label '" + std::string(label) + "'; expected 0 or 1",
                            where);
      samples.y.push_back(label == "1" ? 1 : 0);
      sentences.emplace_back(fields[sentence_column]);
    }
    if (!header_seen)
      throw ablate::Error(file.string() + " is empty; expected the header \"sentence<TAB>label\"",
                          file.string());
    samples.x = ablate::featurize(sentences, features_);
    return samples;
  }

  std::filesystem::path folder_;
  ablate::TextFeatures features_;
};

ablate::PluginInfo info() {
  std::vector<ablate::ParamSpec> params = {ablate::text(
      "path", "$ABLATE_DATA/sst2",
      "folder of GLUE's train.tsv and dev.tsv; $ABLATE_DATA: the environment variable, else "
      "/usr/local/share/ablate-data")};
  for (auto& spec : ablate::text_feature_params()) params.push_back(std::move(spec));
  return {ablate::kAbiVersion, ablate::Kind::dataset, "sst2", "1.0",
          "SST-2 sentiment (GLUE TSV): hashed bag-of-words, 2 classes, dev as test",
          std::move(params)};
}

std::unique_ptr<ablate::Plugin> create(const ablate::Params& params) {
  return std::make_unique<Sst2>(params);
}

}  // namespace

ABLATE_PLUGIN(info, create)
