// summary.json's val_loss, and split.synthetic_labels end to end: the real binary and plugins on
// sklearn's digits. Labels made wrong on purpose must show in the validation figures (whose
// labels stay true), so both the injection and the new figure are exercised together.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>

#include "runs/json.hpp"
#include "study/plan.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using ablate::test::read_text;
using ablate::test::run_ablate;
using ablate::test::run_dir_of;
using ablate::test::TempDir;
using ablate::test::write_text;

namespace {

ablate::Json run_summary(const fs::path& file, const std::string& extra, const fs::path& out) {
  const auto r = run_ablate("run " + file.string() + " --out " + out.string() + " " + extra);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  return ablate::Json::parse(read_text(run_dir_of(r) / "summary.json"));
}

double figure(const ablate::Json& summary, const char* key) {
  const ablate::Json* value = summary.find(key);
  INFO("summary figure " << key);
  REQUIRE(value != nullptr);
  return value->as_number();
}

}  // namespace

TEST_CASE("val_loss is in the summary, and synthetic labels hurt validation, not the split",
          "[e2e][data]") {
  TempDir tmp("ablate-val-loss");
  write_text(tmp / "digits.toml", R"(
[experiment]
name = "val-loss"
seed = 3

[dataset]
plugin = "digits"

[split]
val_fraction = 0.2

[topology]
plugin = "mlp"
hidden = [32]

[train]
epochs = 12
batch_size = 32
lr = 0.05
threads = 1
checkpoint_every = 0
)");
  const ablate::Json clean = run_summary(tmp / "digits.toml", "", tmp / "runs");
  const double clean_loss = figure(clean, "val_loss");
  // Every number the host writes to summary.json is a figure a finding's check may name.
  const auto& figures = ablate::study::host_figures();
  for (const auto& [key, value] : clean.as_object())
    if (value.is_number()) {
      INFO("summary.json's " << key << " is no figure of study::host_figures()");
      CHECK(std::find(figures.begin(), figures.end(), key) != figures.end());
    }
  INFO("clean: val_loss " << clean_loss << ", val_accuracy " << figure(clean, "val_accuracy"));
  CHECK(std::isfinite(clean_loss));
  CHECK(clean_loss > 0);
  CHECK(figure(clean, "val_accuracy") > 0.85);  // the comparison below means something

  // Every training label replaced by another class: the model learns to avoid the true one.
  const ablate::Json noisy =
      run_summary(tmp / "digits.toml", "--set split.synthetic_labels=1", tmp / "runs");
  INFO("noisy: val_loss " << figure(noisy, "val_loss") << ", val_accuracy "
                          << figure(noisy, "val_accuracy"));
  CHECK(figure(noisy, "val_accuracy") < 0.2);
  CHECK(figure(noisy, "val_loss") > 2 * clean_loss);
  // The split itself does not move: the label-shift check measures the same train/val split.
  CHECK(figure(noisy, "label_shift") == figure(clean, "label_shift"));
}
