#pragma once
// Hashed bag-of-words features for text datasets (sst2, spam): the hashing trick of
// Weinberger et al. 2009, "Feature Hashing for Large Scale Multitask Learning", unsigned.
// A token's column is a stable hash of it modulo the width, so no vocabulary is stored and the
// same text gives the same row on every machine.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ablate/params.hpp"
#include "ablate/tensor.hpp"

namespace ablate {

enum class TextNorm {
  l2,    // each row scaled to unit Euclidean length
  count  // each row divided by its number of terms (relative frequencies)
};

struct TextFeatures {
  int features = 1024;  // columns
  bool bigrams = false;  // also hash each pair of adjacent words
  TextNorm norm = TextNorm::l2;
};

/// The parameters every text dataset declares (features, bigrams, norm), one set of defaults.
std::vector<ParamSpec> text_feature_params();
/// Reads those parameters.
TextFeatures text_features_from(const Params& params);

/// Lowercased words: maximal runs of ASCII letters and digits, apostrophes ("don't", "n't") and
/// non-ASCII bytes (so UTF-8 words stay whole); runs of apostrophes alone are dropped.
std::vector<std::string> tokenize(std::string_view text);

/// 64-bit FNV-1a: stable across platforms, compilers and runs, unlike std::hash.
std::uint64_t fnv1a(std::string_view text);

/// One row per text, `options.features` wide. An empty text gives a zero row.
Matrix featurize(const std::vector<std::string>& texts, const TextFeatures& options);

}  // namespace ablate
