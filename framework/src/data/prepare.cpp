// Splits, subsamples, the label-shift check and task sequences (data/prepare.hpp).
#include "data/prepare.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "ablate/random.hpp"
#include "ablate/split.hpp"

namespace ablate {
namespace {

struct SplitOptions {
  double val_fraction = 0;
  std::size_t n_train = 0, n_test = 0;  // 0: all
  bool stratified = true;
  bool sorted_tail = false;  // split.val_rows = "sorted_tail"
};

/// The last `count` rows of the pool in label order (stable): what x[-n:] takes from a file
/// sorted by label. The validation labels are then the largest ones, missing from training.
RowSplit sorted_tail(const std::vector<std::int32_t>& labels, std::size_t count) {
  std::vector<std::size_t> order(labels.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return labels[a] < labels[b]; });
  RowSplit split;
  split.picked.assign(order.end() - static_cast<std::ptrdiff_t>(count), order.end());
  split.rest.assign(order.begin(), order.end() - static_cast<std::ptrdiff_t>(count));
  std::sort(split.picked.begin(), split.picked.end());
  std::sort(split.rest.begin(), split.rest.end());
  return split;
}

struct SplitSource {
  std::string name;
  DataShape shape;
  Samples train, val, test;
};

void check_pool(const Source& source, const Samples& pool, const char* which) {
  const auto fail = [&](const std::string& why) {
    return Error(fmt::format("dataset '{}' delivered a malformed {} pool: {} (a plugin bug)",
                             source.name, which, why));
  };
  if (static_cast<std::size_t>(pool.x.rows()) != pool.y.size())
    throw fail(fmt::format("{} rows but {} labels", pool.x.rows(), pool.y.size()));
  if (pool.size() > 0 && pool.x.cols() != source.shape.features)
    throw fail(fmt::format("{} columns but shape.features = {}", pool.x.cols(),
                           source.shape.features));
  for (auto label : pool.y)
    if (label < 0 || label >= source.shape.classes)
      throw fail(fmt::format("label {} outside [0, {})", label, source.shape.classes));
}

// The given rows (ascending, distinct) of a pool no longer needed, moved up in its own buffer,
// which is then cut to size. A copy would take fresh memory as large, and fresh pages cost
// here: the kernel zeroing them was a fifth of a 1-epoch Fashion-MNIST run.
Samples take_rows(Samples& pool, const std::vector<std::size_t>& rows) {
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] == i) continue;  // rows[i] >= i: a row is read before anything overwrites it
    pool.x.row(static_cast<Eigen::Index>(i)) = pool.x.row(static_cast<Eigen::Index>(rows[i]));
    pool.y[i] = pool.y[rows[i]];
  }
  pool.x.conservativeResize(static_cast<Eigen::Index>(rows.size()), Eigen::NoChange);
  pool.y.resize(rows.size());
  return std::move(pool);
}

// `count` of `rows` (ascending indices into a pool labelled `labels`), seeded and stratified
// as asked; what the [split] parameter `what` asked for must be there.
std::vector<std::size_t> subsample(const std::vector<std::size_t>& rows,
                                   const std::vector<std::int32_t>& labels, std::size_t count,
                                   Rng rng, bool stratified, const std::string& what) {
  if (count == 0 || count == rows.size()) return rows;
  if (count > rows.size())
    throw Error(fmt::format("{} = {} but only {} samples are available; use at most {} or 0 "
                            "for all",
                            what, count, rows.size(), rows.size()));
  std::vector<std::int32_t> row_labels(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) row_labels[i] = labels[rows[i]];
  const RowSplit chosen = pick_rows(row_labels, count, rng, stratified);
  std::vector<std::size_t> kept(count);
  for (std::size_t i = 0; i < count; ++i) kept[i] = rows[chosen.picked[i]];
  return kept;
}

std::vector<std::size_t> all_rows(std::size_t n) {
  std::vector<std::size_t> rows(n);
  std::iota(rows.begin(), rows.end(), std::size_t{0});
  return rows;
}

SplitSource split_source(Source source, const SplitOptions& options, std::uint64_t seed,
                         std::uint64_t index) {
  check_pool(source, source.train, "train");
  check_pool(source, source.test, "test");
  const std::string prefix = "dataset '" + source.name + "': split.";

  const auto val_count = static_cast<std::size_t>(
      std::llround(options.val_fraction * static_cast<double>(source.train.size())));
  Rng val_rng = Rng::stream(seed, "split.val", index);
  RowSplit val = options.sorted_tail
                     ? sorted_tail(source.train.y, val_count)
                     : pick_rows(source.train.y, val_count, val_rng, options.stratified);
  const auto train_rows =
      subsample(val.rest, source.train.y, options.n_train, Rng::stream(seed, "split.train", index),
                options.stratified, prefix + "n_train");
  const auto test_rows = subsample(all_rows(source.test.size()), source.test.y, options.n_test,
                                   Rng::stream(seed, "split.test", index), options.stratified,
                                   prefix + "n_test");

  SplitSource out{source.name, source.shape, {}, {}, {}};
  out.val = select_rows(source.train, val.picked);
  out.train = take_rows(source.train, train_rows);
  out.test = take_rows(source.test, test_rows);
  return out;
}

std::vector<int> class_range(int first, int count) {
  std::vector<int> classes(static_cast<std::size_t>(count));
  std::iota(classes.begin(), classes.end(), first);
  return classes;
}

void offset_labels(Samples& samples, int offset) {
  for (auto& label : samples.y) label += offset;
}

// The rows whose label is in [first, last).
Samples keep_classes(const Samples& samples, int first, int last) {
  std::vector<std::size_t> rows;
  for (std::size_t i = 0; i < samples.size(); ++i)
    if (samples.y[i] >= first && samples.y[i] < last) rows.push_back(i);
  return select_rows(samples, rows);
}

// Column j of the result is column permutation[j] of `samples`.
Samples permute_columns(const Samples& samples, const std::vector<Eigen::Index>& permutation) {
  Samples out;
  resize_samples(out.x, samples.x.rows(), samples.x.cols());
  for (Eigen::Index r = 0; r < samples.x.rows(); ++r)
    for (Eigen::Index j = 0; j < samples.x.cols(); ++j)
      out.x(r, j) = samples.x(r, permutation[static_cast<std::size_t>(j)]);
  out.y = samples.y;
  return out;
}

Samples concatenate(std::vector<Samples> parts) {
  if (parts.size() == 1) return std::move(parts.front());
  Eigen::Index rows = 0;
  for (const auto& part : parts) rows += part.x.rows();
  Samples out;
  resize_samples(out.x, rows, parts.front().x.cols());
  Eigen::Index at = 0;
  for (auto& part : parts) {
    out.x.middleRows(at, part.x.rows()) = part.x;
    at += part.x.rows();
    out.y.insert(out.y.end(), part.y.begin(), part.y.end());
    part = Samples{};  // release as we go: datasets can be large
  }
  return out;
}

void require_one_source(const std::vector<SplitSource>& sources, const std::string& mode) {
  if (sources.size() != 1)
    throw Error(fmt::format("tasks.mode = {} takes one dataset, the experiment has {}; use mode "
                            "sequence or joint for several",
                            mode, sources.size()));
}

// The shape of several datasets side by side: same features; classes and names stacked.
DataShape combined_shape(const std::vector<SplitSource>& sources) {
  DataShape shape = sources.front().shape;
  if (sources.size() == 1) return shape;
  shape.classes = 0;
  shape.class_names.clear();
  for (const auto& source : sources) {
    if (source.shape.features != shape.features)
      throw Error(fmt::format("datasets '{}' ({} features) and '{}' ({} features) cannot feed "
                              "one model; combine datasets with the same number of features",
                              sources.front().name, shape.features, source.name,
                              source.shape.features));
    const auto& s = source.shape;
    if (s.channels != shape.channels || s.height != shape.height || s.width != shape.width)
      shape.channels = 1, shape.height = 1, shape.width = 0;  // no common image layout
    for (int c = 0; c < s.classes; ++c) {
      const auto k = static_cast<std::size_t>(c);
      shape.class_names.push_back(source.name + "/" +
                                  (k < s.class_names.size() ? s.class_names[k] : std::to_string(c)));
    }
    shape.classes += s.classes;
  }
  return shape;
}

std::vector<Task> build_tasks(std::vector<SplitSource>& sources, const Params& params,
                              std::uint64_t seed) {
  const std::string& mode = params.string("mode");
  std::vector<Task> tasks;
  if (mode == "single") {
    require_one_source(sources, mode);
    auto& s = sources.front();
    tasks.push_back({s.name, std::move(s.train), std::move(s.val), std::move(s.test),
                     class_range(0, s.shape.classes)});
  } else if (mode == "split_classes") {
    require_one_source(sources, mode);
    const auto& s = sources.front();
    const std::int64_t per_task = params.integer("classes_per_task");
    if (per_task < 1 || per_task > s.shape.classes)
      throw Error(fmt::format("tasks.classes_per_task = {} but dataset '{}' has {} classes; use "
                              "1 to {}",
                              per_task, s.name, s.shape.classes, s.shape.classes));
    for (int first = 0; first < s.shape.classes; first += static_cast<int>(per_task)) {
      const int last = std::min(s.shape.classes, first + static_cast<int>(per_task));
      tasks.push_back({fmt::format("{} classes {}-{}", s.name, first, last - 1),
                       keep_classes(s.train, first, last), keep_classes(s.val, first, last),
                       keep_classes(s.test, first, last), class_range(first, last - first)});
    }
  } else if (mode == "permuted") {
    require_one_source(sources, mode);
    auto& s = sources.front();
    const std::int64_t count = params.integer("count");
    if (count < 1) throw Error(fmt::format("tasks.count = {}; use 1 or more", count));
    for (std::int64_t t = 1; t < count; ++t) {
      std::vector<Eigen::Index> permutation(static_cast<std::size_t>(s.shape.features));
      std::iota(permutation.begin(), permutation.end(), Eigen::Index{0});
      Rng rng = Rng::stream(seed, "tasks.permute", static_cast<std::uint64_t>(t));
      rng.shuffle(std::span(permutation));
      tasks.push_back({fmt::format("{} permutation {}", s.name, t),
                       permute_columns(s.train, permutation), permute_columns(s.val, permutation),
                       permute_columns(s.test, permutation), class_range(0, s.shape.classes)});
    }
    tasks.insert(tasks.begin(), Task{s.name + " permutation 0", std::move(s.train),
                                     std::move(s.val), std::move(s.test),
                                     class_range(0, s.shape.classes)});
  } else if (mode == "sequence" || mode == "joint") {
    int offset = 0;
    for (auto& s : sources) {
      offset_labels(s.train, offset);
      offset_labels(s.val, offset);
      offset_labels(s.test, offset);
      tasks.push_back({s.name, std::move(s.train), std::move(s.val), std::move(s.test),
                       class_range(offset, s.shape.classes)});
      offset += s.shape.classes;
    }
    if (mode == "joint") {
      Task joint;
      std::vector<Samples> train, val, test;
      for (auto& task : tasks) {
        joint.name += (joint.name.empty() ? "" : "+") + task.name;
        train.push_back(std::move(task.train));
        val.push_back(std::move(task.val));
        test.push_back(std::move(task.test));
      }
      joint.train = concatenate(std::move(train));
      joint.val = concatenate(std::move(val));
      joint.test = concatenate(std::move(test));
      joint.classes = class_range(0, offset);
      tasks.assign(1, std::move(joint));
    }
  } else {
    throw Error("tasks.mode = '" + mode +
                "' is not a task mode; use single, split_classes, permuted, sequence or joint");
  }
  return tasks;
}

// The seeds' experiment 7b.1, "synthetic label injection": round(fraction * n) training rows
// (picked as split.stratified asks) get a label drawn uniformly from the task's other classes,
// so exactly that share of the training labels is wrong. Validation and test keep theirs.
void inject_synthetic_labels(Task& task, double fraction, Rng rng, bool stratified) {
  if (fraction <= 0 || task.train.size() == 0) return;
  const std::size_t classes = task.classes.size();
  if (classes < 2)
    throw Error(fmt::format("split.synthetic_labels = {} needs tasks of two classes or more; "
                            "task '{}' has {}: use split.synthetic_labels = 0",
                            fraction, task.name, classes));
  const auto count = static_cast<std::size_t>(
      std::llround(fraction * static_cast<double>(task.train.size())));
  const RowSplit chosen = pick_rows(task.train.y, count, rng, stratified);
  for (const std::size_t row : chosen.picked) {
    std::int32_t& label = task.train.y[row];
    const auto own = static_cast<std::size_t>(
        std::find(task.classes.begin(), task.classes.end(), label) - task.classes.begin());
    auto other = static_cast<std::size_t>(rng.below(classes - 1));
    if (other >= own) ++other;  // skip the true class: every picked label changes
    label = task.classes[other];
  }
}

}  // namespace

double label_distance(std::span<const std::int32_t> a, std::span<const std::int32_t> b,
                      int classes) {
  if (a.empty() || b.empty()) return 0;
  const auto histogram = [&](std::span<const std::int32_t> labels) {
    std::vector<double> counts(static_cast<std::size_t>(std::max(classes, 0)));
    for (auto label : labels) {
      if (label < 0 || label >= classes)
        throw Error(fmt::format("label {} outside [0, {})", label, classes));
      counts[static_cast<std::size_t>(label)] += 1;
    }
    return counts;
  };
  const auto count_a = histogram(a), count_b = histogram(b);
  const auto size_a = static_cast<double>(a.size()), size_b = static_cast<double>(b.size());
  double sum = 0;
  for (std::size_t c = 0; c < count_a.size(); ++c)
    sum += std::abs(count_a[c] / size_a - count_b[c] / size_b);
  return sum / 2;
}

PreparedData prepare_data(std::vector<Source> sources, const Params& split, const Params& tasks,
                          std::uint64_t seed) {
  if (sources.empty()) throw Error("the experiment names no dataset; add a [dataset] section");
  SplitOptions options;
  options.val_fraction = split.real("val_fraction");
  if (options.val_fraction < 0 || options.val_fraction >= 1)
    throw Error(fmt::format("split.val_fraction = {}; use a value in [0, 1)",
                            options.val_fraction));
  options.n_train = static_cast<std::size_t>(std::max<std::int64_t>(0, split.integer("n_train")));
  options.n_test = static_cast<std::size_t>(std::max<std::int64_t>(0, split.integer("n_test")));
  options.stratified = split.boolean("stratified");
  options.sorted_tail = split.string("val_rows") == "sorted_tail";

  std::vector<SplitSource> split_sources;
  for (std::size_t i = 0; i < sources.size(); ++i)
    split_sources.push_back(split_source(std::move(sources[i]), options, seed, i));
  sources.clear();

  PreparedData data;
  data.shape = combined_shape(split_sources);
  data.tasks = build_tasks(split_sources, tasks, seed);

  const double threshold = split.real("shift_warn");
  for (const auto& task : data.tasks) {
    const auto check = [&](const Samples& other, const char* which, const char* remedy) {
      const double distance = label_distance(task.train.y, other.y, data.shape.classes);
      data.label_shift = std::max(data.label_shift, distance);
      if (distance > threshold)
        data.warnings.push_back(fmt::format(
            "task '{}': the {} labels are distributed unlike the training labels (total-variation "
            "distance {:.3f} > split.shift_warn = {}); accuracy measured on them may mislead: {}",
            task.name, which, distance, threshold, remedy));
    };
    check(task.val, "validation",
          options.sorted_tail ? "split.val_rows = \"sorted_tail\" takes the largest labels; use "
                                "\"drawn\" (the default)"
                              : "use split.stratified = true or a larger split.val_fraction");
    check(task.test, "test",
          "use split.stratified = true or split.n_test = 0; if the dataset's own test pool is "
          "skewed, report per-class accuracy");
  }
  // After the shift check: that measures the split, not the noise injected on purpose.
  const double synthetic = split.real("synthetic_labels");
  for (std::size_t t = 0; t < data.tasks.size(); ++t)
    inject_synthetic_labels(data.tasks[t], synthetic,
                            Rng::stream(seed, "split.synthetic_labels", t), options.stratified);
  return data;
}

}  // namespace ablate
