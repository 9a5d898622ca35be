// bench_mlp: training throughput of the gradient engine against PyTorch on the same CPU, and
// against the GEMM roofline (docs/BENCHMARKS.md explains how to read the table).
//
// Trains MLP 784-256-256-10 (ReLU, SGD momentum 0.9, softmax cross-entropy) on Fashion-MNIST
// with the trainer's loop: shuffle each epoch, gather a batch, forward, loss, backward, step;
// an epoch's last batch may be partial. For each batch size and thread count it reports:
//   ablate    samples/s of that loop (best of --repeats timed runs);
//   roofline  samples/s if a step cost only its sgemm calls: the very calls a step makes (same
//             shapes, transposes, leading dimensions, betas and batch rows), replayed alone;
//   PyTorch   samples/s of tools/bench/torch_mlp.py, run as a subprocess in the same run.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "ablate/error.hpp"
#include "ablate/formats.hpp"
#include "ablate/nn.hpp"
#include "optim/optimizer.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using namespace ablate;

struct Options {
  std::filesystem::path data = "/usr/share/datasets/fashion-mnist";
  std::vector<int> batches{32, 128};
  std::vector<int> threads{1, 2};
  long samples = 60000;  // per timed run
  int repeats = 3;
  std::string python = "/usr/bin/python3";
  std::filesystem::path torch_script = std::filesystem::path(__FILE__).parent_path() / "torch_mlp.py";
  bool torch = true;
};

constexpr int kSizes[] = {784, 256, 256, 10};
constexpr float kLearningRate = 0.01f;

std::vector<int> parse_list(const std::string& text) {
  std::vector<int> out;
  std::size_t at = 0;
  while (at <= text.size()) {
    const std::size_t comma = std::min(text.find(',', at), text.size());
    out.push_back(std::stoi(text.substr(at, comma - at)));
    at = comma + 1;
  }
  return out;
}

void usage() {
  std::puts(
      "usage: bench_mlp [--data DIR] [--batch 32,128] [--threads 1,2] [--samples N]\n"
      "                 [--repeats R] [--python PATH] [--torch-script PATH] [--no-torch]\n"
      "Trains MLP 784-256-256-10 (ReLU, SGD momentum 0.9) on Fashion-MNIST with ablate and with\n"
      "PyTorch, and prints samples/s, the ratio, and the GEMM roofline. Each timed run covers N\n"
      "samples (default 60000, one epoch); the best of R runs (default 3) is kept.");
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw Error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--data") o.data = value();
    else if (arg == "--batch") o.batches = parse_list(value());
    else if (arg == "--threads") o.threads = parse_list(value());
    else if (arg == "--samples") o.samples = std::stol(value());
    else if (arg == "--repeats") o.repeats = std::stoi(value());
    else if (arg == "--python") o.python = value();
    else if (arg == "--torch-script") o.torch_script = value();
    else if (arg == "--no-torch") o.torch = false;
    else if (arg == "--help" || arg == "-h") {
      usage();
      std::exit(0);
    } else {
      usage();
      throw Error("unknown option '" + arg + "'");
    }
  }
  if (o.samples < 1 || o.repeats < 1) throw Error("--samples and --repeats must be >= 1");
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

Params sgd_momentum() {
  return Params({{"optimizer", std::string("sgd")}, {"momentum", 0.9}, {"nesterov", false},
                 {"weight_decay", 0.0}});
}

struct Measure {
  double samples_per_s = 0;
  double loss = 0;  // mean loss of the last timed run
};

/// The training loop, as the trainer runs it.
Measure train(const Samples& data, int batch, long samples, int repeats) {
  Rng init(1), shuffle(2), dropout(3);
  nn::Mlp mlp({{std::begin(kSizes), std::end(kSizes)}, nn::Activation::relu, 0.0, false, ""}, init);
  mlp.reserve(batch);
  const auto params = mlp.parameters();
  auto optimizer = make_optimizer(sgd_momentum(), params);
  const long n = static_cast<long>(data.size());
  std::vector<std::uint32_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0u);
  Matrix x(batch, kSizes[0]), probs(batch, kSizes[3]), dlogits(batch, kSizes[3]);
  std::vector<std::int32_t> labels(static_cast<std::size_t>(batch));
  Batches batches(n, batch);

  auto run = [&](long steps) {
    double loss = 0;
    long seen = 0;
    for (long s = 0; s < steps; ++s) {
      if (batches.epoch_starts()) shuffle.shuffle(std::span<std::uint32_t>(order));
      const auto [first, rows] = batches.next();
      for (int i = 0; i < rows; ++i) {
        const std::uint32_t sample = order[static_cast<std::size_t>(first + i)];
        x.row(i) = data.x.row(sample);
        labels[static_cast<std::size_t>(i)] = data.y[sample];
      }
      const auto batch_x = x.topRows(rows);
      mlp.forward(batch_x, Mode::train, dropout);
      loss += rows * nn::softmax_cross_entropy(
                         mlp.output(), std::span<const std::int32_t>(labels.data(), rows),
                         probs.topRows(rows), dlogits.topRows(rows));
      mlp.backward(batch_x, dlogits.topRows(rows), false);
      optimizer->step(kLearningRate);
      seen += rows;
    }
    return std::pair{seen, loss / static_cast<double>(seen)};
  };

  const long steps = (samples + batch - 1) / batch;
  run(std::max(20L, steps / 20));  // warm caches, BLAS buffers and thread pools
  Measure best;
  for (int r = 0; r < repeats; ++r) {
    const auto start = Clock::now();
    const auto [seen, loss] = run(steps);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    best.samples_per_s = std::max(best.samples_per_s, static_cast<double>(seen) / seconds);
    best.loss = loss;
  }
  return best;
}

/// The sgemm calls one training step makes (nn::Dense: forward x W^T with the bias in C,
/// beta 1; backward dW = dpre^T x and, above the first layer, dx = dpre W, beta 0), replayed
/// alone on buffers of the same shapes.
class GemmReplay {
 public:
  explicit GemmReplay(int batch) {
    Rng rng(4);
    auto filled = [&](int rows, int cols) {
      Matrix m(rows, cols);
      for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = rng.uniform_float() - 0.5f;
      return m;
    };
    const int layers = static_cast<int>(std::size(kSizes)) - 1;
    for (int k = 0; k <= layers; ++k) acts_.push_back(filled(batch, kSizes[k]));
    for (int k = 0; k < layers; ++k) {
      weights_.push_back(filled(kSizes[k + 1], kSizes[k]));
      grads_.push_back(filled(kSizes[k + 1], kSizes[k]));
      deltas_.push_back(filled(batch, kSizes[k + 1]));
    }
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
    // Keep values bounded: forward accumulates into C (beta 1) on every replay.
    for (std::size_t k = 1; k < acts_.size(); ++k) acts_[k].topRows(rows) *= 0.0f;
  }

 private:
  std::vector<Matrix> acts_, weights_, grads_, deltas_;
};

double roofline(long n, int batch, long samples, int repeats) {
  GemmReplay replay(batch);
  Batches batches(n, batch);
  const long steps = (samples + batch - 1) / batch;
  auto run = [&](long count) {
    long seen = 0;
    for (long s = 0; s < count; ++s) {
      const int rows = batches.next().second;
      replay.step(rows);
      seen += rows;
    }
    return seen;
  };
  run(std::max(20L, steps / 20));
  double best = 0;
  for (int r = 0; r < repeats; ++r) {
    const auto start = Clock::now();
    const long seen = run(steps);
    best = std::max(best, static_cast<double>(seen) /
                              std::chrono::duration<double>(Clock::now() - start).count());
  }
  return best;
}

struct Row {
  int batch = 0, threads = 0;
  Measure ablate;
  double roofline = 0;
  std::optional<Measure> torch;
};

/// Runs torch_mlp.py once for every setting; fills each row's `torch`.
void run_torch(const Options& o, std::vector<Row>& rows) {
  auto join = [](const std::vector<int>& v) {
    std::string s;
    for (int x : v) {
      s += ' ';
      s += std::to_string(x);
    }
    return s;
  };
  const std::string command = "'" + o.python + "' '" + o.torch_script.string() + "' --data '" +
                              o.data.string() + "' --batch" + join(o.batches) + " --threads" +
                              join(o.threads) + " --samples " + std::to_string(o.samples) +
                              " --repeats " + std::to_string(o.repeats);
  std::fprintf(stderr, "running PyTorch: %s\n", command.c_str());
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) throw Error("could not start " + o.python);
  char line[512];
  while (std::fgets(line, sizeof line, pipe)) {
    int batch = 0, threads = 0;
    double speed = 0, loss = 0;
    if (std::sscanf(line, "{\"batch\": %d, \"threads\": %d, \"samples_per_s\": %lf, \"loss\": %lf",
                    &batch, &threads, &speed, &loss) != 4)
      continue;
    for (Row& row : rows)
      if (row.batch == batch && row.threads == threads) row.torch = Measure{speed, loss};
  }
  if (pclose(pipe) != 0)
    std::fprintf(stderr, "PyTorch run failed (is python3-torch installed for %s?)\n",
                 o.python.c_str());
}

const Row* best_of(const std::vector<Row>& rows, int batch, bool torch) {
  const Row* best = nullptr;
  for (const Row& row : rows) {
    if (row.batch != batch || (torch && !row.torch)) continue;
    const double speed = torch ? row.torch->samples_per_s : row.ablate.samples_per_s;
    const double best_speed =
        !best ? -1 : (torch ? best->torch->samples_per_s : best->ablate.samples_per_s);
    if (speed > best_speed) best = &row;
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) try {
  const Options o = parse(argc, argv);
  const Samples data = read_idx(o.data / "train-images-idx3-ubyte.gz",
                                o.data / "train-labels-idx1-ubyte.gz");
  const long n = static_cast<long>(data.size());
  std::vector<Row> rows;
  for (int batch : o.batches) {
    for (int t : o.threads) {
      set_threads(t);
      Row row{batch, t, {}, 0, {}};
      std::fprintf(stderr, "ablate batch %d, %d thread(s)...\n", batch, t);
      row.ablate = train(data, batch, o.samples, o.repeats);
      row.roofline = roofline(n, batch, o.samples, o.repeats);
      rows.push_back(row);
    }
  }
  if (o.torch) run_torch(o, rows);

  std::printf("\nMLP 784-256-256-10, ReLU, SGD momentum 0.9, Fashion-MNIST (%ld samples); best of "
              "%d runs of %ld samples\n\n",
              n, o.repeats, o.samples);
  std::printf("batch  threads  ablate/s  loss    roofline/s  of roofline  PyTorch/s  loss    ratio\n");
  for (const Row& r : rows) {
    std::printf("%5d  %7d  %8.0f  %6.4f  %10.0f  %10.1f%%", r.batch, r.threads,
                r.ablate.samples_per_s, r.ablate.loss, r.roofline,
                100.0 * r.ablate.samples_per_s / r.roofline);
    if (r.torch)
      std::printf("  %9.0f  %6.4f  %5.2fx\n", r.torch->samples_per_s, r.torch->loss,
                  r.ablate.samples_per_s / r.torch->samples_per_s);
    else
      std::printf("  %9s\n", "-");
  }
  std::printf("\neach at its best thread count   (goals: >= 2x PyTorch at batch 32, >= 1.25x at "
              "128, >= 80%% of the roofline)\n");
  std::printf("batch  ablate/s (threads)  of roofline  PyTorch/s (threads)  ratio\n");
  for (int batch : o.batches) {
    const Row* a = best_of(rows, batch, false);
    const Row* t = best_of(rows, batch, true);
    std::printf("%5d  %8.0f (%d)        %9.1f%%", batch, a->ablate.samples_per_s, a->threads,
                100.0 * a->ablate.samples_per_s / a->roofline);
    if (t)
      std::printf("  %9.0f (%d)          %5.2fx\n", t->torch->samples_per_s, t->threads,
                  a->ablate.samples_per_s / t->torch->samples_per_s);
    else
      std::printf("  %9s\n", "-");
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench_mlp: %s\n", e.what());
  return 1;
}
