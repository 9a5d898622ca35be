// bench_mlp: training throughput of the gradient engine against PyTorch on the same CPU, and
// against the GEMM roofline (docs/BENCHMARKS.md explains how to read the table).
//
// Trains MLP 784-256-256-10 (ReLU, SGD momentum 0.9, softmax cross-entropy) on Fashion-MNIST
// with the trainer's loop: shuffle each epoch, gather a batch, forward, loss, backward, step;
// an epoch's last batch may be partial. For each batch size and thread count it reports:
//   ablate    samples/s of that loop (best of --repeats timed runs);
//   roofline  samples/s if a step cost only its sgemm calls: the very gemm() calls a step makes
//             (same shapes, transposes, leading dimensions, betas and batch rows, cut into the
//             same per-thread blocks), replayed alone; each timed ablate run is followed by
//             one of its roofline, and "of roofline" is the median of these pairs' ratios;
//   bound     the most "of roofline" could read with the optimizer update as it is: the GEMMs'
//             time over that of the GEMMs and the optimizer's steps, each replayed alone in the
//             same pairs (the step's other passes, bias, activations, softmax, gather, taken
//             as free);
//   BLAS-threaded  above one thread, ablate and its roofline again with the GEMMs threaded by
//             OpenBLAS instead of cut by the host (GemmThreading::blas), for comparison;
//   PyTorch   samples/s of tools/bench/torch_mlp.py (the same loop), run as a subprocess right
//             after ablate's runs of the same setting.
// It also prints the core-to-core round trip at the start and the end: the 2-thread rows
// depend on it, and on a VM it moves with the placement of the vCPUs.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ablate/error.hpp"
#include "ablate/formats.hpp"
#include "ablate/nn.hpp"
#include "nn/gemm_threading.hpp"
#include "optim/optimizer.hpp"
#include "stats/layer_summary.hpp"

#include "bench_args.hpp"

namespace {

using ablate::bench::parse_list;
using ablate::bench::positive;
using Clock = std::chrono::steady_clock;
using namespace ablate;

struct Options {
  std::filesystem::path data = "/usr/share/datasets/fashion-mnist";
  std::vector<int> batches{32, 128};
  std::vector<int> threads{1, 2};
  long samples = 60000;  // per timed run
  int repeats = 3;
  std::string python = "/usr/bin/python3";
  std::filesystem::path torch_script =
      std::filesystem::path(__FILE__).parent_path() / "torch_mlp.py";
  bool torch = true;
  bool host_gemms = true, blas_gemms = true;  // --gemm-threading host|blas|both
};

constexpr int kSizes[] = {784, 256, 256, 10};
constexpr float kLearningRate = 0.01f;

void usage() {
  std::puts(
      "usage: bench_mlp [--data DIR] [--batch 32,128] [--threads 1,2] [--samples N]\n"
      "                 [--repeats R] [--python PATH] [--torch-script PATH] [--no-torch]\n"
      "                 [--gemm-threading host|blas|both]\n"
      "Trains MLP 784-256-256-10 (ReLU, SGD momentum 0.9) on Fashion-MNIST with ablate and with\n"
      "PyTorch, and prints samples/s, the ratio, and the GEMM roofline. Each timed run covers N\n"
      "samples (default 60000, one epoch); the best of R runs (default 3) is kept. Above one\n"
      "thread the GEMMs are cut by the host (the default, the main columns) and, for comparison,\n"
      "threaded by OpenBLAS (the BLAS-thr columns); --gemm-threading picks one (for profiling).");
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw Error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--data")
      o.data = value();
    else if (arg == "--batch")
      o.batches = parse_list(arg, value());
    else if (arg == "--threads")
      o.threads = parse_list(arg, value());
    else if (arg == "--samples")
      o.samples = positive(arg, value());
    else if (arg == "--repeats")
      o.repeats = static_cast<int>(positive(arg, value()));
    else if (arg == "--python")
      o.python = value();
    else if (arg == "--torch-script")
      o.torch_script = value();
    else if (arg == "--no-torch")
      o.torch = false;
    else if (arg == "--gemm-threading") {
      const std::string mode = value();
      if (mode != "host" && mode != "blas" && mode != "both")
        throw Error("--gemm-threading takes host, blas or both, not '" + mode + "'");
      o.host_gemms = mode != "blas";
      o.blas_gemms = mode != "host";
    }
    else if (arg == "--help" || arg == "-h") {
      usage();
      std::exit(0);
    } else {
      usage();
      throw Error("unknown option '" + arg + "'");
    }
  }
  return o;
}

/// The rows of each step over the shuffled epochs: full batches, then the partial remainder.
class Batches {
 public:
  Batches(long n, int batch) : n_(n), batch_(batch) {}
  /// Rows of the next step, and the position of its first sample in the epoch's order.
  std::pair<long, int> next() {
    if (at_ >= n_) at_ = 0;
    const long first = at_;
    const int rows = static_cast<int>(std::min<long>(batch_, n_ - at_));
    at_ += rows;
    return {first, rows};
  }
  bool epoch_starts() const { return at_ >= n_ || at_ == 0; }

 private:
  long n_;
  int batch_;
  long at_ = 0;
};

/// The benchmarked model: an MLP of kSizes, ReLU, no dropout, dense.
nn::Mlp::Options bench_model() {
  return {{std::begin(kSizes), std::end(kSizes)}, nn::Activation::relu, 0.0, false, ""};
}

Params sgd_momentum() {
  return Params({{"optimizer", std::string("sgd")},
                 {"momentum", 0.9},
                 {"nesterov", false},
                 {"weight_decay", 0.0}});
}

struct Measure {
  double samples_per_s = 0;
  double loss = 0;  // mean loss of the last timed run
};

/// Seconds that `steps` steps of `loop` take; adds the samples and the loss sum it saw.
template <class Loop>
double seconds_of(Loop& loop, long steps, long& seen, double& loss_sum) {
  const auto start = Clock::now();
  const auto [n, loss] = loop.run(steps);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  seen += n;
  loss_sum += loss * static_cast<double>(n);
  return seconds;
}

/// Round trip of a cache line between two threads, in ns (median of 21 runs of 2000). Two
/// threads of the pool hand data to each other several times per step, so their distance
/// bounds what a second thread can give: on this VM it moves between ~160 ns and ~500 ns
/// as the hypervisor places the two vCPUs, and the 2-thread rows move with it.
double core_round_trip_ns() {
  constexpr int kTrips = 2000;
  alignas(64) std::atomic<int> ball{0};
  std::vector<double> runs;
  for (int run = 0; run < 21; ++run) {
    ball.store(0);
    std::thread partner([&] {
      for (int i = 0; i < kTrips; ++i) {
        while (ball.load(std::memory_order_acquire) != 2 * i + 1) {}
        ball.store(2 * i + 2, std::memory_order_release);
      }
    });
    while (ball.load(std::memory_order_acquire) != 0) {}
    const auto start = Clock::now();
    for (int i = 0; i < kTrips; ++i) {
      ball.store(2 * i + 1, std::memory_order_release);
      while (ball.load(std::memory_order_acquire) != 2 * i + 2) {}
    }
    runs.push_back(std::chrono::duration<double, std::nano>(Clock::now() - start).count() /
                   kTrips);
    partner.join();
  }
  return quantiles(std::move(runs)).median;
}

/// The training loop, as the trainer runs it.
class TrainingLoop {
 public:
  TrainingLoop(const Samples& data, int batch)
      : data_(data),
        init_(1),
        shuffle_(2),
        dropout_(3),
        mlp_(bench_model(), init_),
        order_(data.size()),
        x_(batch, kSizes[0]),
        probs_(batch, kSizes[3]),
        dlogits_(batch, kSizes[3]),
        labels_(static_cast<std::size_t>(batch)),
        batches_(static_cast<long>(data.size()), batch) {
    mlp_.reserve(batch);
    params_ = mlp_.parameters();
    optimizer_ = make_optimizer(sgd_momentum(), params_);
    std::iota(order_.begin(), order_.end(), 0u);
  }

  /// `steps` training steps: samples seen and their mean loss.
  std::pair<long, double> run(long steps) {
    double loss = 0;
    long seen = 0;
    for (long s = 0; s < steps; ++s) {
      if (batches_.epoch_starts()) shuffle_.shuffle(std::span<std::uint32_t>(order_));
      const auto [first, rows] = batches_.next();
      const std::span<const std::uint32_t> samples(order_.data() + first,
                                                   static_cast<std::size_t>(rows));
      nn::gather_rows(data_.x, samples, x_);
      for (int i = 0; i < rows; ++i)
        labels_[static_cast<std::size_t>(i)] = data_.y[samples[static_cast<std::size_t>(i)]];
      const auto batch_x = x_.topRows(rows);
      mlp_.forward(batch_x, Mode::train, dropout_);
      loss += rows * nn::softmax_cross_entropy(mlp_.output(),
                                               std::span<const std::int32_t>(labels_.data(), rows),
                                               probs_.topRows(rows), dlogits_.topRows(rows));
      mlp_.backward(batch_x, dlogits_.topRows(rows), false);
      optimizer_->step(kLearningRate);
      seen += rows;
    }
    return {seen, loss / static_cast<double>(seen)};
  }

 private:
  const Samples& data_;
  Rng init_, shuffle_, dropout_;
  nn::Mlp mlp_;
  std::vector<Parameter*> params_;
  std::unique_ptr<Optimizer> optimizer_;
  std::vector<std::uint32_t> order_;
  Matrix x_, probs_, dlogits_;
  std::vector<std::int32_t> labels_;
  Batches batches_;
};

/// The sgemm calls the training loop's steps make (nn::Dense: forward x W^T with the bias
/// already in C, beta 1; backward dW = dpre^T x and, above the first layer, dx = dpre W,
/// beta 0), with the same batch rows step by step, replayed alone on buffers of the same shapes.
class GemmReplay {
 public:
  GemmReplay(long samples, int batch) : batches_(samples, batch) {
    const int layers = static_cast<int>(std::size(kSizes)) - 1;
    for (int k = 0; k <= layers; ++k) acts_.push_back(filled(batch, kSizes[k]));
    for (int k = 0; k < layers; ++k) {
      weights_.push_back(filled(kSizes[k + 1], kSizes[k]));
      grads_.push_back(filled(kSizes[k + 1], kSizes[k]));
      deltas_.push_back(filled(batch, kSizes[k + 1]));
    }
    start_ = acts_;
  }

  /// Forward accumulates into C (beta 1): each timed run starts from the same values.
  void restart() { acts_ = start_; }

  std::pair<long, double> run(long steps) {
    long seen = 0;
    for (long s = 0; s < steps; ++s) {
      const int rows = batches_.next().second;
      step(rows);
      seen += rows;
    }
    return {seen, 0.0};
  }

 private:
  Matrix filled(int rows, int cols) {
    Matrix m(rows, cols);
    for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = rng_.uniform_float() - 0.5f;
    return m;
  }

  void step(int rows) {
    const std::size_t layers = weights_.size();
    for (std::size_t k = 0; k < layers; ++k)
      gemm(Transpose::no, Transpose::yes, 1.0f, acts_[k].topRows(rows), weights_[k], 1.0f,
           acts_[k + 1].topRows(rows));
    for (std::size_t k = layers; k-- > 0;) {
      gemm(Transpose::yes, Transpose::no, 1.0f, deltas_[k].topRows(rows), acts_[k].topRows(rows),
           0.0f, grads_[k]);
      if (k > 0)
        gemm(Transpose::no, Transpose::no, 1.0f, deltas_[k].topRows(rows), weights_[k], 0.0f,
             deltas_[k - 1].topRows(rows));
    }
  }

  Rng rng_{4};
  Batches batches_;
  std::vector<Matrix> acts_, start_, weights_, grads_, deltas_;
};

/// The optimizer steps the training loop makes (SGD momentum over the MLP's parameters, cut
/// across threads as the trainer cuts them), replayed alone on gradients that stay fixed: what
/// the update costs a step where its working set (each parameter, its gradient and its
/// momentum buffer) streams from memory as in training.
class UpdateReplay {
 public:
  UpdateReplay()
      : rng_(5),
        mlp_(bench_model(), rng_),
        params_(mlp_.parameters()),
        optimizer_(make_optimizer(sgd_momentum(), params_)) {
    for (Parameter* p : params_)
      for (Eigen::Index i = 0; i < p->grad.size(); ++i)
        p->grad.data()[i] = 1e-3f * (rng_.uniform_float() - 0.5f);
  }

  /// Counts steps, not samples: the bound compares its seconds with the GEMMs' over as many
  /// steps, and an update costs the same whatever the batch's rows.
  std::pair<long, double> run(long steps) {
    for (long s = 0; s < steps; ++s) optimizer_->step(kLearningRate);
    return {steps, 0.0};
  }

 private:
  Rng rng_;
  nn::Mlp mlp_;
  std::vector<Parameter*> params_;
  std::unique_ptr<Optimizer> optimizer_;
};

/// PyTorch at a thread count: its own (intra-op) threads and OpenBLAS's, which does its GEMMs.
struct TorchRun {
  int intra_op = 1, blas = 1;
  Measure measure;
};

/// torch_mlp.py --serve as a subprocess: asked for one timed run at a time, so that its runs
/// interleave with ablate's and both see the same machine load.
class TorchPeer {
 public:
  explicit TorchPeer(const Options& o) {
    int to_child[2], from_child[2];
    if (pipe(to_child) != 0 || pipe(from_child) != 0) throw Error("pipe() failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, to_child[0], 0);
    posix_spawn_file_actions_adddup2(&actions, from_child[1], 1);
    for (int fd : {to_child[0], to_child[1], from_child[0], from_child[1]})
      posix_spawn_file_actions_addclose(&actions, fd);
    const std::string script = o.torch_script.string(), data = o.data.string();
    std::vector<char*> argv{const_cast<char*>(o.python.c_str()), const_cast<char*>(script.c_str()),
                            const_cast<char*>("--serve"),        const_cast<char*>("--data"),
                            const_cast<char*>(data.c_str()),     nullptr};
    const int failed =
        posix_spawn(&pid_, o.python.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(to_child[0]);
    close(from_child[1]);
    if (failed) {
      close(to_child[1]);
      close(from_child[0]);
      throw Error("could not start " + o.python + " " + script);
    }
    to_ = fdopen(to_child[1], "w");
    from_ = fdopen(from_child[0], "r");
  }
  ~TorchPeer() {
    std::fclose(to_);  // end of requests: the peer exits
    std::fclose(from_);
    waitpid(pid_, nullptr, 0);
  }
  TorchPeer(const TorchPeer&) = delete;
  TorchPeer& operator=(const TorchPeer&) = delete;

  /// One timed run of `samples` samples; none if the peer failed (it printed why on stderr).
  std::optional<TorchRun> run(int batch, int intra_op, int blas, long samples) {
    std::fprintf(to_, "%d %d %d %ld\n", batch, intra_op, blas, samples);
    std::fflush(to_);
    char line[512];
    if (!std::fgets(line, sizeof line, from_)) return std::nullopt;
    TorchRun run;
    int b = 0;
    if (std::sscanf(line,
                    "{\"batch\": %d, \"threads\": %d, \"blas_threads\": %d, \"samples_per_s\": "
                    "%lf, \"loss\": %lf",
                    &b, &run.intra_op, &run.blas, &run.measure.samples_per_s,
                    &run.measure.loss) != 5)
      return std::nullopt;
    return run;
  }

 private:
  pid_t pid_ = 0;
  FILE* to_ = nullptr;
  FILE* from_ = nullptr;
};

/// PyTorch's settings at `threads` threads: that many for both its own threads and OpenBLAS's,
/// and, above one thread, one own thread with OpenBLAS on all (what torch.set_num_threads(1)
/// gives on Debian, where OpenBLAS is left unpinned).
std::vector<std::pair<int, int>> torch_settings(int threads) {
  std::vector<std::pair<int, int>> out{{threads, threads}};
  if (threads > 1) out.emplace_back(1, threads);
  return out;
}

struct Row {
  int batch = 0, threads = 0;
  Measure ablate, roofline;
  /// ablate / roofline of each timed pair of runs (one right after the other); the table
  /// shows their median. A ratio of bests could pair runs minutes apart, and this machine's
  /// speed moves with where its vCPUs are placed (core_round_trip_ns below).
  std::vector<double> shares;
  /// Per pair, the share a step would have if it cost only its GEMMs and its optimizer update
  /// (both replayed alone): the most "of roofline" can read with the update as it is.
  std::vector<double> bounds;
  std::vector<double> round_trips;  // measured right before each pair; above one thread only
  Measure blas_ablate, blas_roofline;  // GEMMs threaded by OpenBLAS; above one thread only
  std::vector<double> blas_shares, blas_bounds;
  /// What gemm_threading = "auto" would run: the faster of the two GEMM threadings.
  bool blas_faster() const { return blas_ablate.samples_per_s > ablate.samples_per_s; }
  double best_speed() const { return blas_faster() ? blas_ablate.samples_per_s : ablate.samples_per_s; }
  double best_share() const { return quantiles(blas_faster() ? blas_shares : shares).median; }
  double best_bound() const { return quantiles(blas_faster() ? blas_bounds : bounds).median; }
  std::optional<TorchRun> torch;
};

/// The training loop and its GEMM replay under one GEMM threading.
struct Variant {
  Variant(GemmThreading threading, Measure* ablate, Measure* roofline, const Samples& data,
          long samples, int batch)
      : threading(threading), ablate(ablate), roofline(roofline), training(data, batch),
        replay(samples, batch) {}

  /// Caches, BLAS buffers and thread pools.
  void warm(int threads, long steps) {
    use(threads);
    training.run(steps);
    replay.restart();
    replay.run(steps);
    update.run(steps);
  }
  struct Shares {
    double of_roofline;  // ablate's speed over its roofline's
    double bound;        // the GEMMs' time over the GEMMs' and the update's
  };
  /// One timed pair of runs (with the update's replay). The three alternate in chunks of
  /// kChunkSteps steps, so that all see the same machine: run one after the other, a VM's speed
  /// moved enough within a run (seconds) for the GEMMs alone to come out slower than the steps
  /// they are part of, a roofline above 100%.
  Shares time(int threads, long steps) {
    constexpr long kChunkSteps = 64;
    use(threads);
    replay.restart();
    long seen = 0, replayed = 0, updated = 0;
    double loss_sum = 0, unused = 0, step_s = 0, gemm_s = 0, update_s = 0;
    for (long done = 0; done < steps; done += kChunkSteps) {
      const long n = std::min(kChunkSteps, steps - done);
      step_s += seconds_of(training, n, seen, loss_sum);
      gemm_s += seconds_of(replay, n, replayed, unused);
      update_s += seconds_of(update, n, updated, unused);
    }
    const double step_speed = static_cast<double>(seen) / step_s;
    const double gemm_speed = static_cast<double>(replayed) / gemm_s;
    ablate->samples_per_s = std::max(ablate->samples_per_s, step_speed);
    ablate->loss = loss_sum / static_cast<double>(seen);
    roofline->samples_per_s = std::max(roofline->samples_per_s, gemm_speed);
    return {step_speed / gemm_speed, gemm_s / (gemm_s + update_s)};
  }
  void use(int threads) const {
    set_gemm_threading(threading);
    set_threads(threads);
  }

  GemmThreading threading;
  Measure *ablate, *roofline;
  TrainingLoop training;
  GemmReplay replay;
  UpdateReplay update;
};

const Row* best_of(const std::vector<Row>& rows, int batch, bool torch) {
  const Row* best = nullptr;
  for (const Row& row : rows) {
    if (row.batch != batch || (torch && !row.torch)) continue;
    const double speed = torch ? row.torch->measure.samples_per_s : row.best_speed();
    const double best_speed =
        !best ? -1 : (torch ? best->torch->measure.samples_per_s : best->best_speed());
    if (speed > best_speed) best = &row;
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) try {
  const Options o = parse(argc, argv);
  const double round_trip_start = core_round_trip_ns();
  const Samples data =
      read_idx(o.data / "train-images-idx3-ubyte.gz", o.data / "train-labels-idx1-ubyte.gz");
  const long n = static_cast<long>(data.size());
  std::optional<TorchPeer> torch;
  if (o.torch) torch.emplace(o);
  std::vector<Row> rows;
  for (int batch : o.batches) {
    for (int t : o.threads) {
      std::fprintf(stderr, "batch %d, %d thread(s)...\n", batch, t);
      Row row;
      row.batch = batch;
      row.threads = t;
      // The main columns: the GEMM threading asked for (the host's cut unless --gemm-threading
      // blas); with both, OpenBLAS's too above one thread, where they differ.
      std::vector<Variant> variants;
      variants.push_back({o.host_gemms ? GemmThreading::host : GemmThreading::blas, &row.ablate,
                          &row.roofline, data, n, batch});
      if (o.host_gemms && o.blas_gemms && t > 1)
        variants.push_back(
            {GemmThreading::blas, &row.blas_ablate, &row.blas_roofline, data, n, batch});
      const long steps = (o.samples + batch - 1) / batch;
      // Warm-up: as many steps as a timed run. A process's first pass over the dataset runs
      // slower where its pages are 4 KiB (docs/DATASETS.md, "Memory"; here, before the data
      // had huge pages: the first timed run after 1/20 of that at 62-71% of its roofline at
      // batch 32 and 2 threads, the later ones at 77-88%), and would pull the median down.
      for (Variant& v : variants) v.warm(t, steps);
      // Runs interleaved (ablate, its roofline, PyTorch in each setting), best of each kept:
      // all of them see the same machine load.
      std::vector<TorchRun> settings;
      for (auto [intra_op, blas] : torch_settings(t)) settings.push_back({intra_op, blas, {}});
      for (int r = 0; r < o.repeats; ++r) {
        if (t > 1) row.round_trips.push_back(core_round_trip_ns());
        const auto [share, bound] = variants.front().time(t, steps);
        row.shares.push_back(share);
        row.bounds.push_back(bound);
        for (std::size_t v = 1; v < variants.size(); ++v) {
          const auto [blas_share, blas_bound] = variants[v].time(t, steps);
          row.blas_shares.push_back(blas_share);
          row.blas_bounds.push_back(blas_bound);
        }
        for (TorchRun& setting : settings) {
          if (!torch) break;
          const auto run = torch->run(batch, setting.intra_op, setting.blas, steps * batch);
          if (!run) {
            std::fprintf(stderr, "PyTorch failed (is python3-torch installed for %s?)\n",
                         o.python.c_str());
            torch.reset();
            break;
          }
          setting.measure.samples_per_s =
              std::max(setting.measure.samples_per_s, run->measure.samples_per_s);
          setting.measure.loss = run->measure.loss;
        }
      }
      for (const TorchRun& setting : settings)
        if (setting.measure.samples_per_s > 0 &&
            (!row.torch || setting.measure.samples_per_s > row.torch->measure.samples_per_s))
          row.torch = setting;
      rows.push_back(row);
    }
  }

  const double round_trip_end = core_round_trip_ns();
  std::printf(
      "\nMLP 784-256-256-10, ReLU, SGD momentum 0.9, Fashion-MNIST (%ld samples); best of "
      "%d runs of %ld samples; of roofline: median over the runs of ablate / its roofline, which\n"
      "alternate every 64 steps; bound: the most of roofline a step could read with its optimizer\n"
      "update as it is (the GEMMs' time over the GEMMs' and the update's, each replayed alone)\n"
      "core-to-core round trip: %.0f ns at the start, %.0f ns at the end\n\n",
      n, o.repeats, o.samples, round_trip_start, round_trip_end);
  std::printf(
      "batch  threads  ablate/s  loss    roofline/s  of roofline  bound  BLAS-thr: ablate/s  "
      "roofline/s  PyTorch/s  loss    ratio  (PyTorch: own + BLAS threads)\n");
  for (const Row& r : rows) {
    std::printf("%5d  %7d  %8.0f  %6.4f  %10.0f  %10.1f%%  %4.1f%%", r.batch, r.threads,
                r.ablate.samples_per_s, r.ablate.loss, r.roofline.samples_per_s,
                100.0 * quantiles(r.shares).median, 100.0 * quantiles(r.bounds).median);
    if (r.blas_ablate.samples_per_s > 0)
      std::printf("  %18.0f  %10.0f", r.blas_ablate.samples_per_s, r.blas_roofline.samples_per_s);
    else
      std::printf("  %18s  %10s", "-", "-");
    if (r.torch)
      std::printf("  %9.0f  %6.4f  %5.2fx  (%d + %d)\n", r.torch->measure.samples_per_s,
                  r.torch->measure.loss, r.ablate.samples_per_s / r.torch->measure.samples_per_s,
                  r.torch->intra_op, r.torch->blas);
    else
      std::printf("  %9s\n", "-");
  }
  std::printf(
      "\neach at its best thread count   (goals: >= 2x PyTorch at batch 32, >= 1.25x at "
      "128, >= 80%% of the roofline)\n");
  std::printf("batch  ablate/s (threads, GEMMs)  of roofline  bound  PyTorch/s (threads)  ratio\n");
  for (int batch : o.batches) {
    const Row* a = best_of(rows, batch, false);
    const Row* t = best_of(rows, batch, true);
    std::printf("%5d  %8.0f (%d, %s)        %9.1f%%  %4.1f%%", batch, a->best_speed(), a->threads,
                a->threads == 1 ? "1 thr" : a->blas_faster() ? "blas " : "host ",
                100.0 * a->best_share(), 100.0 * a->best_bound());
    if (t)
      std::printf("  %9.0f (%d)          %5.2fx\n", t->torch->measure.samples_per_s, t->threads,
                  a->best_speed() / t->torch->measure.samples_per_s);
    else
      std::printf("  %9s\n", "-");
  }
  // The pairs behind each median above one thread, with the vCPUs' distance at the time: on a
  // VM the spread between pairs is mostly where the hypervisor placed the vCPUs.
  bool header = false;
  for (const Row& r : rows) {
    if (r.round_trips.empty()) continue;
    if (!header) std::printf("\nof roofline, pair by pair (core-to-core round trip just before)\n");
    header = true;
    std::printf("batch %3d, %d threads:", r.batch, r.threads);
    for (std::size_t i = 0; i < r.shares.size(); ++i)
      std::printf("%s %.1f%% (%.0f ns)", i ? "," : "", 100.0 * r.shares[i], r.round_trips[i]);
    std::printf("\n");
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench_mlp: %s\n", e.what());
  return 1;
}
