#pragma once
// The host's side of the data, called by the trainer: validation carved from each dataset's
// training pool, subsamples, the label-shift check, and the task sequence. Driven by an
// experiment's [split] and [tasks] sections; every choice seeded, so one seed gives the same
// splits bit for bit.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "ablate/data.hpp"
#include "ablate/params.hpp"

namespace ablate {

struct PreparedData {
  DataShape shape;  // of the whole sequence: classes of every task, labels global
  std::vector<Task> tasks;
  double label_shift = 0;  // the largest train-vs-val (or train-vs-test) label TVD of any task
  std::vector<std::string> warnings;
};

/// Splits each source as [split] asks (val_fraction, n_train, n_test, stratified, shift_warn,
/// synthetic_labels; declared in config/host_sections.cpp), then builds the tasks of [tasks]
/// `mode`:
///   single         one task, one dataset, all classes;
///   split_classes  classes_per_task classes per task in label order, labels kept global;
///   permuted       `count` tasks on one dataset, task 0 as is, each other a fixed seeded
///                  permutation of the feature columns;
///   sequence       a task per dataset in order, labels offset so datasets never share one;
///   joint          every dataset mixed into one task, labels offset the same way.
/// Last, split.synthetic_labels replaces that share of each task's training labels by another
/// of the task's classes (seeded by "split.synthetic_labels", task index); val and test untouched.
/// Throws ablate::Error when the datasets cannot be combined or a size is out of reach.
PreparedData prepare_data(std::vector<Source> sources, const Params& split, const Params& tasks,
                          std::uint64_t seed);

/// Total-variation distance between the label distributions of `a` and `b`:
/// half the sum over classes of |share in a - share in b|; 0 when either is empty.
double label_distance(std::span<const std::int32_t> a, std::span<const std::int32_t> b,
                      int classes);

}  // namespace ablate
