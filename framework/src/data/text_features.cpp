// Hashed bag-of-words (ablate/text_features.hpp).
#include "ablate/text_features.hpp"

#include <cmath>

#include "ablate/data.hpp"

namespace ablate {
namespace {

bool is_word_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '\'' || c >= 0x80;
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

std::vector<ParamSpec> text_feature_params() {
  return {
      integer("features", 1024, 16, 1 << 20,
              "columns of the hashed bag of words (a word's column: FNV-1a hash mod features)"),
      flag("bigrams", false, "also count each pair of adjacent words"),
      choice("norm", "l2", {"l2", "count"},
             "row scaling: l2 = unit length, count = divided by the number of terms"),
  };
}

TextFeatures text_features_from(const Params& params) {
  TextFeatures options;
  options.features = static_cast<int>(params.integer("features"));
  options.bigrams = params.boolean("bigrams");
  options.norm = params.string("norm") == "count" ? TextNorm::count : TextNorm::l2;
  return options;
}

std::vector<std::string> tokenize(std::string_view text) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && !is_word_byte(static_cast<unsigned char>(text[i]))) ++i;
    std::string word;
    bool has_content = false;
    for (; i < text.size() && is_word_byte(static_cast<unsigned char>(text[i])); ++i) {
      word += lower(text[i]);
      has_content = has_content || text[i] != '\'';
    }
    if (has_content) words.push_back(std::move(word));
  }
  return words;
}

std::uint64_t fnv1a(std::string_view text) {
  std::uint64_t hash = 14695981039346656037ull;
  for (char c : text) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return hash;
}

Matrix featurize(const std::vector<std::string>& texts, const TextFeatures& options) {
  const auto width = static_cast<std::uint64_t>(options.features);
  Matrix x;
  resize_samples(x, static_cast<Eigen::Index>(texts.size()), options.features);
  x.setZero();
  for (std::size_t i = 0; i < texts.size(); ++i) {
    auto row = x.row(static_cast<Eigen::Index>(i));
    const auto words = tokenize(texts[i]);
    std::size_t terms = 0;
    const auto count = [&](std::string_view term) {
      row(static_cast<Eigen::Index>(fnv1a(term) % width)) += 1.0f;
      ++terms;
    };
    for (std::size_t w = 0; w < words.size(); ++w) {
      count(words[w]);
      // A space cannot occur inside a word, so "a b" never collides with a unigram's text.
      if (options.bigrams && w + 1 < words.size()) count(words[w] + ' ' + words[w + 1]);
    }
    if (terms == 0) continue;
    if (options.norm == TextNorm::l2)
      row /= row.norm();
    else
      row /= static_cast<float>(terms);
  }
  return x;
}

}  // namespace ablate
