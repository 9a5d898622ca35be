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
