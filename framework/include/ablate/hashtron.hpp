#pragma once
// The hashtron engine's model: networks of boolean hash neurons ("hashtrons", after the public
// Go project neurlang/classifier; the idea is re-derived here, see docs/HASHTRON.md).
//
// A hashtron maps a uint32 key to a bit: the key is hashed with the unit's salt and reduced into
// [0, premodulo) (keys that collide share one answer: the capacity control), then looked up in
// an exact table learned from data; a hashed key no sample has voted on answers a deterministic
// default, a seeded pseudo-random bit (an untrained unit answers so for every key).
// Layers of hashtrons are joined by combiners (majority pooling in 1D or 2D, then concatenation
// of the pooled bits into the next layer's keys). The first layer's keys pack a few
// pseudo-randomly chosen binarized (or quantized) features each. The last layer's bits name the
// class (OutputCode).
//
// Fitting one unit (fit_unit): for every training sample the rest of the network is evaluated
// with the unit's output as it is and negated; where exactly one of the two gives the right
// answer (VoteRule::exact) the sample votes for that output on the unit's hashed key; the new
// table is the sign of the summed votes per key. Keys without votes (or with a tie) keep their
// answer when the unit's hash (salt, premodulo) is unchanged, else get the new hash's default.
// Votes are integers summed per key, so the result does not depend on the thread count at all.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ablate/model.hpp"

namespace ablate {

/// The largest premodulo: no reduction at all (the hash is a bijection of the key).
inline constexpr std::uint64_t kNoPremodulo = std::uint64_t{1} << 32;

/// A seeded 32-bit mix, a bijection of `key` for a given salt: Wellons' "lowbias32"
/// (https://nullprogram.com/blog/2018/07/31/) after xoring in the salt.
constexpr std::uint32_t hashtron_mix(std::uint32_t key, std::uint32_t salt) {
  std::uint32_t x = key ^ (salt * 0x9E3779B9u);
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

/// The hashed key of a hashtron: the mix reduced into [0, premodulo) by multiply-shift (Lemire's
/// fast alternative to the modulo). premodulo in [1, kNoPremodulo].
constexpr std::uint32_t hashtron_hash(std::uint32_t key, std::uint32_t salt,
                                      std::uint64_t premodulo) {
  return static_cast<std::uint32_t>((std::uint64_t{hashtron_mix(key, salt)} * premodulo) >> 32);
}

/// premodulo = round(capacity^2), bounded to [1, kNoPremodulo] (DESIGN.md: capacity laws).
std::uint64_t premodulo_for_capacity(double capacity);

/// How one hashtron layer's output bits become the next layer's keys: first majority pooling
/// (each group of bits -> 1 bit: 1 when more than half are 1), then the pooled bits, in order,
/// split into one run of consecutive bits per next-layer neuron (its key; at most 32 bits).
///   "concat"               no pooling
///   "majority:G"           groups of G consecutive bits
///   "majority2d:WxH:wxh"   the bits as a W-wide, H-high grid (row-major), pooled in w x h windows
struct Combiner {
  enum class Kind { concat, majority, majority2d };
  Kind kind = Kind::concat;
  int group = 1;                         // majority
  int grid_width = 0, grid_height = 0;   // majority2d
  int window_width = 1, window_height = 1;

  /// Throws ablate::Error naming the text and the valid spellings.
  static Combiner parse(std::string_view text);
  std::string str() const;
  bool operator==(const Combiner&) const = default;
};

struct HashtronLayerSpec {
  int neurons = 1;
  int bits = 1;  // output bits per neuron: that many units share the neuron's key
  std::uint64_t premodulo = kNoPremodulo;  // every unit's initial premodulo
  bool operator==(const HashtronLayerSpec&) const = default;
};

/// How a row of features becomes the first layer's keys.
struct HashtronInputSpec {
  int features = 0;         // columns of x
  int bits_per_feature = 1; // 1: x > threshold; b > 1: x in [0, 1] quantized to 2^b levels
  double threshold = 0.5;
  int taps = 0;             // features per first-layer neuron, drawn at random without repeats;
                            // 0: every feature, in order (features * bits_per_feature <= 32)
  bool operator==(const HashtronInputSpec&) const = default;
};

/// How the output layer's bits name a class.
///   binary  the bits read as an integer v (bit i worth 2^i), class = v mod classes (upstream's
///           encoding; at most 16 bits);
///   groups  the bits split into `classes` equal consecutive groups (one-vs-rest ensembles);
///           the class is the group with the most ones, ties to the lower class.
enum class OutputCode { binary, groups };

/// The fewest output bits that can name every one of `classes` classes: binary, enough bits for
/// an integer up to classes - 1; groups, one bit per class.
int output_bits_for_classes(int classes, OutputCode code);

/// When a sample votes while a unit is fitted. exact: only where exactly one of (output as is,
/// negated) predicts the label. hamming: where one of the two output codes is nearer (in bits)
/// to naming the label (fewer output bits to change), the nearer one: upstream's graded signal
/// for multi-bit outputs, where one flip alone rarely turns a wrong answer right.
enum class VoteRule { exact, hamming };

/// The architecture: everything a model file needs besides the learned tables.
struct HashtronSpec {
  HashtronInputSpec input;
  std::vector<HashtronLayerSpec> layers;  // first to last; the last layer's bits are the output
  std::vector<Combiner> combiners;        // between consecutive layers: layers.size() - 1
  int classes = 2;
  OutputCode output = OutputCode::binary;
  VoteRule vote = VoteRule::exact;
  bool reject_worse = true;  // undo a fit that lowers training accuracy
  bool resalt = false;       // draw a fresh salt at every fit (other collisions, same capacity)

  /// Throws ablate::Error saying what is inconsistent and what would be valid.
  void validate() const;
  /// JSON, as stored in model files.
  std::string to_json() const;
  static HashtronSpec from_json(std::string_view text);
  bool operator==(const HashtronSpec&) const = default;
};

struct FitResult {
  bool accepted = true;         // false: the unit is as it was (no sample voted, or
                                // reject_worse refused a lower training accuracy)
  double accuracy_before = 0;   // training accuracy before the fit
  double accuracy_after = 0;    // with the new table (kept only if accepted)
  double seconds = 0;
  std::int64_t votes = 0;       // samples that voted
  std::int64_t keys = 0;        // distinct hashed keys voted on
  std::uint64_t premodulo = 0;  // what the new table hashed with
};

class ABLATE_API HashtronModel final : public Model {
 public:
  /// Salts and first-layer taps are drawn from `rng`; every unit starts untrained: a seeded
  /// pseudo-random function of its hashed key. Throws ablate::Error on an invalid spec.
  HashtronModel(const HashtronSpec& spec, Rng& rng);
  ~HashtronModel() override;
  HashtronModel(const HashtronModel&) = delete;
  HashtronModel& operator=(const HashtronModel&) = delete;

  const HashtronSpec& spec() const;

  /// One unit layer per hashtron layer ("hashtron1", ...; size neurons x bits), the output last.
  std::vector<UnitLayer> unit_layers() const override;
  int unit_count() const;

  void predict(const ConstMatrixRef& x, std::span<std::int32_t> out) override;
  double accuracy(const Samples& samples);

  /// Refits one unit on `train` (see the top of this file). The model keeps the layer outputs
  /// of the last `train` it saw, so a fit re-evaluates only what lies downstream of the unit;
  /// that cache is recognised by identity and a fingerprint: do not modify a Samples object in
  /// place between fits. `rng` draws the new salt when the spec asks to resalt.
  FitResult fit_unit(UnitId unit, const Samples& train, Rng& rng);

  /// Adds to `sums`, per unit, +1 for every sample where its output bit is 1 and -1 where 0;
  /// laid out layer by layer as unit_layers() (UnitGraph::offset).
  void accumulate_unit_sums(const Samples& samples, std::span<std::int64_t> sums);

  bool uses_capacity() const override { return true; }
  /// premodulo = round(capacity^2) for the unit's next fit (a learned table cannot be rehashed
  /// without the data: it keeps the premodulo it was built with until then).
  void apply_capacity(UnitId unit, double capacity) override;
  void set_premodulo(UnitId unit, std::uint64_t premodulo);
  /// The premodulo the unit's next fit hashes with.
  std::uint64_t premodulo(UnitId unit) const;
  /// The unit's answer for one key (as its current table has it).
  bool unit_output(UnitId unit, std::uint32_t key) const;

  /// Checkpoint state: architecture (checked on load), taps, salts, premodulos and tables.
  void save(StateStore& out, const std::string& prefix) const override;
  void load(const StateStore& in, const std::string& prefix) override;

  /// A standalone model file (docs/HASHTRON.md, "Model files"): safetensors holding the
  /// architecture beside the tables, so load_model needs nothing else.
  void save_model(const std::filesystem::path& file) const;
  static std::unique_ptr<HashtronModel> load_model(const std::filesystem::path& file);

  /// The host's state of the model (framework/src/hashtron/model_impl.hpp); opaque to plugins.
  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace ablate
