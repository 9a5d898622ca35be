// The host's own sections of an experiment file: [experiment] [split] [tasks] [train] [pipeline].
#include <cmath>

#include "config/experiment.hpp"

namespace ablate {
namespace {

// Exclusive bounds are the next double past the bound (see ParamSpec::describe_allowed).
double above(double bound) { return std::nextafter(bound, kInf); }
double below(double bound) { return std::nextafter(bound, -kInf); }

std::vector<ParamSpec> experiment_section() {
  return {
      text("name", std::nullopt, "the experiment's name: runs go to runs/<name>/"),
      text("description", "", "what the experiment is for"),
      integer("seed", 1, 0, kInf, "seed of every random choice (data splits, initialisation)"),
      integers("seeds", std::vector<std::int64_t>{}, 0, kInf,
               "seeds that `ablate reproduce` runs each arm with"),
      texts("plugin_paths", std::vector<std::string>{},
            "folders searched for plugins, relative to the file that names them"),
      texts("include", std::vector<std::string>{},
            "files merged under this one, relative to it; this file wins"),
  };
}

std::vector<ParamSpec> split_section() {
  return {
      real("val_fraction", 0.1, 0, 0.9, "share of the training pool held out for validation"),
      integer("n_train", 0, 0, kInf, "training samples kept after the split (0: all)"),
      integer("n_test", 0, 0, kInf, "test samples kept (0: all)"),
      flag("stratified", true, "keep the class proportions in every split"),
      choice("val_rows", "drawn", {"drawn", "sorted_tail"},
             "drawn: seeded, as split.stratified says; sorted_tail: the last rows of the pool "
             "sorted by label, as x[-n:] of a label-sorted file takes them (a shifted split, to "
             "measure what one costs)"),
      real("shift_warn", 0.05, 0, 1,
           "warn when the total-variation distance between train and val labels exceeds this"),
      real("synthetic_labels", 0, 0, 1,
           "share of training labels replaced by another class, seeded (val and test untouched)"),
  };
}

std::vector<ParamSpec> tasks_section() {
  return {
      choice("mode", "single", {"single", "split_classes", "permuted", "sequence", "joint"},
             "single: one task; split_classes: tasks of classes_per_task classes; permuted: count "
             "tasks with permuted inputs; sequence / joint: the [[dataset]] tables one after "
             "another / together"),
      integer("classes_per_task", 2, 1, kInf, "classes per task for split_classes"),
      integer("count", 5, 1, kInf, "number of tasks for permuted"),
  };
}

std::vector<ParamSpec> train_section() {
  return {
      integer("epochs", 10, 1, kInf, "passes over the training split"),
      integer("batch_size", 128, 1, 65536, "samples per gradient step"),
      choice("optimizer", "sgd", {"sgd", "adam", "adamw"}, "the optimizer"),
      real("lr", 0.05, above(0), 100, "learning rate"),
      real("momentum", 0.9, 0, below(1), "SGD momentum"),
      flag("nesterov", false, "Nesterov momentum (SGD)"),
      real("weight_decay", 0, 0, 1, "L2 penalty (sgd, adam) or decoupled decay (adamw)"),
      real("beta1", 0.9, 0, below(1), "Adam's first-moment decay"),
      real("beta2", 0.999, 0, below(1), "Adam's second-moment decay"),
      real("eps", 1e-8, above(0), 1, "Adam's denominator guard"),
      choice("schedule", "constant", {"constant", "step", "cosine"}, "learning-rate schedule"),
      integer("warmup_epochs", 0, 0, kInf, "epochs of linear warmup before the schedule"),
      integer("step_size", 10, 1, kInf, "epochs between decays (step schedule)"),
      real("gamma", 0.1, above(0), 1, "decay factor (step schedule)"),
      real("min_lr", 0, 0, kInf, "floor of the cosine schedule"),
      real("clip_norm", 0, 0, kInf, "clip the gradient's global norm to this (0: off)"),
      integer("threads", 0, 0, 256, "threads for BLAS and the host's loops (0: all cores)"),
      choice("gemm_threading", "auto", {"auto", "host", "blas"},
             "above one thread, who threads the GEMMs: the host's cut, OpenBLAS, or the faster "
             "of the two as measured on first use on this machine (cached; in manifest.json)"),
      choice("best_metric", "auto", {"auto", "val_loss", "val_accuracy"},
             "what the best epoch (summary.json best_*) and early stopping judge by; auto: "
             "val_loss where the model has a loss, else val_accuracy"),
      integer("early_stop", 0, 0, kInf,
              "end a task's training after this many epochs without a better best_metric (0: off)"),
      real("early_stop_delta", 0, 0, kInf,
           "the least improvement of best_metric that counts as better, for early_stop"),
      integer("checkpoint_every", 1, 0, kInf, "epochs between checkpoints (0: only at the end)"),
      real("unit_checkpoint_seconds", 10, 0, kInf,
           "engines that fit unit by unit (hashtrons): least seconds between the checkpoints "
           "taken inside an epoch (0: after every unit)"),
  };
}

std::vector<ParamSpec> pipeline_section() {
  return {
      real("noise_factor", 1.0, 0, kInf,
           "the noise floor epsilon = noise_factor * sqrt(N): |S| at or below it is noise"),
      real("collapse_fraction", 0.8, above(0), 1,
           "the collapse threshold tau = collapse_fraction * N: |S| at or above it is collapsed"),
      integer("sums_kept", 50, 1, 100000, "records the sum cache keeps per unit (older ones are pruned)"),
      text("sums_from", "",
           "a run directory, or a sumcache.bin, whose sum cache a new run starts from: its "
           "records are marked stale, and the capacity law and the orderer start from them"),
      real("memorization_accuracy", 0.95, 0, 1,
           "alert when train accuracy goes above this (checked every epoch)"),
      integer("stagnation_stages", 3, 1, kInf,
              "alert when no unit's margin changed over more than this many stages"),
      integer("oscillation_flips", 3, 1, kInf,
              "alert when a unit's capacity change flips sign this many times in a row"),
      integer("stuck_stages", 3, 1, kInf,
              "alert when this many stages in a row trained one layer without changing train "
              "accuracy"),
      real("stuck_tolerance", 1e-3, 0, 1,
           "the least change of train accuracy that counts as a change for stuck_stages"),
  };
}

}  // namespace

const std::map<std::string, std::vector<ParamSpec>>& host_sections() {
  static const std::map<std::string, std::vector<ParamSpec>> sections{
      {"experiment", experiment_section()},
      {"split", split_section()},
      {"tasks", tasks_section()},
      {"train", train_section()},
      {"pipeline", pipeline_section()},
  };
  return sections;
}

const ParamSpec& host_param(const std::string& section, const std::string& name) {
  for (const auto& spec : host_sections().at(section))
    if (spec.name == name) return spec;
  throw Error("[" + section + "] declares no parameter '" + name + "'");
}

}  // namespace ablate
