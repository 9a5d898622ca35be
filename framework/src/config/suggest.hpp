#pragma once
// "Did you mean" hints for misspelt names: the closest candidate by edit distance.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ablate {

/// Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of two
/// neighbouring characters each cost 1 ("trian" is 1 from "train").
std::size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate closest to `word` (ignoring case), if it is close enough to be a likely typo
/// (the first of equally close ones); else the first the word abbreviates (3+ characters).
std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates);

/// " did you mean 'x'?" when a candidate is close, "" otherwise; ready to append to a sentence.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

/// "a, b, c".
std::string join(const std::vector<std::string>& items, std::string_view separator = ", ");

}  // namespace ablate
