#pragma once
// Samples as the engines see them: features as float32 rows, labels as class indices.
// Boolean engines read the same rows (0/1 features) and pack them into keys themselves.
#include <cstdint>
#include <string>
#include <vector>

#include "ablate/tensor.hpp"

namespace ablate {

struct DataShape {
  int features = 0;                      // columns of x
  int channels = 1, height = 1, width = 0;  // image layout of a row, when it is one
  int classes = 0;
  std::vector<std::string> class_names;  // may be empty
};

struct Samples {
  Matrix x;                     // n x features
  std::vector<std::int32_t> y;  // n labels in [0, classes)
  std::size_t size() const { return y.size(); }
};

/// Sizes x for `rows` samples of `cols` features, contents undefined: call it before filling a
/// new sample matrix. A large one is backed by huge pages where the OS allows. Training reads
/// the rows in shuffled order, and with 4 KiB pages each row costs a page walk until the pages
/// are all in the tables: the first epoch over Fashion-MNIST ran 17-25% slower than the next
/// ones here without them (docs/DATASETS.md, "Memory").
void resize_samples(Matrix& x, Eigen::Index rows, Eigen::Index cols);

/// What a dataset plugin delivers: its natural pools (the files' train and test parts).
/// The host carves validation from `train`, subsamples and builds task sequences.
struct Source {
  std::string name;
  DataShape shape;
  Samples train;
  Samples test;
};

/// One task of a sequence (a single experiment has one task covering everything).
struct Task {
  std::string name;
  Samples train, val, test;
  std::vector<int> classes;  // the labels this task uses
};

}  // namespace ablate
