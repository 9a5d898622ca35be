#pragma once
// Every layer's bits for one set of samples (the training set being fitted), one block of words
// per sample, so that fitting a unit re-evaluates only what lies downstream of it.
#include <cstdint>
#include <span>
#include <vector>

#include "ablate/data.hpp"
#include "hashtron/plan.hpp"
#include "nn/parallel.hpp"

namespace ablate::hashtron {

class Cache {
 public:
  /// Whether the cache holds `samples`: the same object, shape and content fingerprint.
  bool holds(const Samples& samples) const;
  /// Packs and evaluates every sample (in parallel). An Error for a label outside the classes.
  void fill(const Plan& plan, std::span<const Table> tables, const Samples& samples);
  void clear();

  std::size_t size() const { return labels_.size(); }
  Word* block(std::size_t s) { return blocks_.data() + s * words_; }
  const Word* block(std::size_t s) const { return blocks_.data() + s * words_; }
  std::int32_t label(std::size_t s) const { return labels_[s]; }

 private:
  static std::uint64_t fingerprint(const Samples& samples);

  const Samples* source_ = nullptr;
  std::uint64_t fingerprint_ = 0;
  std::size_t words_ = 0;
  std::vector<Word> blocks_;
  std::vector<std::int32_t> labels_;
};

/// Runs chunk(begin, end, block_of) over the rows of x in parallel chunks; block_of(s) packs and
/// evaluates row s into the chunk's scratch block and returns it (valid until the next call).
template <class Chunk>
void forward_rows(const Plan& plan, std::span<const Table> tables, const ConstMatrixRef& x,
                  Chunk&& chunk) {
  parallel_for(static_cast<std::size_t>(x.rows()), 64, [&](std::size_t begin, std::size_t end) {
    std::vector<Word> scratch(static_cast<std::size_t>(plan.block_words()));
    chunk(begin, end, [&](std::size_t s) -> const Word* {
      plan.pack(x.row(static_cast<Eigen::Index>(s)).data(), scratch.data());
      plan.forward(tables, scratch.data());
      return scratch.data();
    });
  });
}

}  // namespace ablate::hashtron
