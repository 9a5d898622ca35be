#include "train/gradient_engine.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "ablate/nn.hpp"
#include "optim/schedule.hpp"

namespace ablate {
namespace {

/// body(first, rows) for each batch of `split`, in order: evaluation passes (accuracy, loss,
/// unit sums) walk a split this way.
template <class Body>
void for_each_batch(const Samples& split, int batch, const Body& body) {
  const auto n = static_cast<std::int64_t>(split.size());
  for (std::int64_t first = 0; first < n; first += batch)
    body(first, static_cast<int>(std::min<std::int64_t>(batch, n - first)));
}

}  // namespace

GradientEngine::GradientEngine(std::shared_ptr<GradientModel> model,
                               std::vector<std::shared_ptr<Regularizer>> regularizers,
                               const DataShape& shape, const Params& train, std::uint64_t seed,
                               Progress* progress)
    : model_(std::move(model)),
      regularizers_(std::move(regularizers)),
      train_(train),
      seed_(seed),
      progress_(progress),
      batch_(static_cast<int>(train.integer("batch_size"))) {
  model_->reserve(batch_);
  parameters_ = model_->parameters();
  optimizer_ = make_optimizer(train_, parameters_);
  x_.setZero(batch_, shape.features);
  probs_.setZero(batch_, shape.classes);
  dlogits_.setZero(batch_, shape.classes);
  y_.assign(static_cast<std::size_t>(batch_), 0);
  predicted_.assign(static_cast<std::size_t>(batch_), 0);
}

std::int64_t GradientEngine::steps_per_epoch(const Task& task) const {
  return (static_cast<std::int64_t>(task.train.size()) + batch_ - 1) / batch_;
}

double GradientEngine::learning_rate(const Task& task, int task_epoch) const {
  const std::int64_t steps = steps_per_epoch(task);
  return scheduled_lr(train_, task_epoch * steps, steps);
}

double GradientEngine::forward_backward(const Samples& train,
                                        std::span<const std::uint32_t> samples, Rng& dropout) {
  const int rows = static_cast<int>(samples.size());
  nn::gather_rows(train.x, samples, x_);
  for (std::size_t i = 0; i < samples.size(); ++i) y_[i] = train.y[samples[i]];
  const std::span<const std::int32_t> labels(y_.data(), samples.size());
  model_->forward(x_.topRows(rows), Mode::train, dropout);
  const ConstMatrixRef logits = model_->logits();
  double loss =
      nn::softmax_cross_entropy(logits, labels, probs_.topRows(rows), dlogits_.topRows(rows));
  loss += model_->auxiliary_loss();
  const Distribution output{logits, probs_.topRows(rows), dlogits_.topRows(rows)};
  for (auto& regularizer : regularizers_) loss += regularizer->on_forward(*model_, output);
  model_->backward(dlogits_.topRows(rows));
  for (auto& regularizer : regularizers_) loss += regularizer->on_backward(*model_);
  return loss;
}

std::string GradientEngine::gemm_workload() const {
  std::string out = "batch " + std::to_string(batch_) + ", parameters";
  for (const Parameter* p : parameters_)
    out += " " + std::to_string(p->value.rows()) + "x" + std::to_string(p->value.cols());
  return out;
}

double GradientEngine::time_steps(const Task& task, int steps) {
  // Whole steps (the optimizer's too, which the host cuts like the GEMMs) from a saved state,
  // which is then put back: the measurement leaves no trace in the run's bits.
  StateStore saved;
  save(saved);
  const auto rows = std::min<std::size_t>(static_cast<std::size_t>(batch_), task.train.size());
  order_.resize(rows);
  std::iota(order_.begin(), order_.end(), 0u);
  Rng dropout = Rng::stream(seed_, "timing");
  const auto lr = static_cast<float>(scheduled_lr(train_, 0, 1));
  const auto started = std::chrono::steady_clock::now();
  for (int step = 0; step < steps; ++step) {
    forward_backward(task.train, order_, dropout);
    optimizer_->step(lr);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  load(saved);
  return seconds / steps;
}

EpochFigures GradientEngine::fit_epoch(const Task& task, const Stage& stage, int epoch,
                                       int task_epoch) {
  const Samples& train = task.train;
  model_->set_trainable(stage.units);
  const auto n = static_cast<std::int64_t>(train.size());
  order_.resize(train.size());
  std::iota(order_.begin(), order_.end(), 0u);
  Rng shuffle = Rng::stream(seed_, "shuffle", static_cast<std::uint64_t>(epoch));
  shuffle.shuffle(std::span<std::uint32_t>(order_));
  Rng dropout = Rng::stream(seed_, "dropout", static_cast<std::uint64_t>(epoch));

  const std::int64_t steps = steps_per_epoch(task);
  const double clip = train_.real("clip_norm");
  double loss_sum = 0;
  std::int64_t correct = 0;
  EpochFigures out;
  const auto started = std::chrono::steady_clock::now();
  for (std::int64_t step = 0; step < steps; ++step) {
    const std::int64_t first = step * batch_;
    const int rows = static_cast<int>(std::min<std::int64_t>(batch_, n - first));
    const std::span<const std::uint32_t> samples(order_.data() + first,
                                                 static_cast<std::size_t>(rows));
    const double loss = forward_backward(train, samples, dropout);
    if (!std::isfinite(loss)) {
      out.finite = false;
      return out;
    }
    if (clip > 0) clip_grad_norm(parameters_, clip);
    optimizer_->step(static_cast<float>(scheduled_lr(train_, task_epoch * steps + step, steps)));

    loss_sum += loss * rows;
    nn::argmax(probs_.topRows(rows), std::span<std::int32_t>(predicted_.data(), static_cast<std::size_t>(rows)));
    for (int i = 0; i < rows; ++i) correct += predicted_[static_cast<std::size_t>(i)] == y_[static_cast<std::size_t>(i)];
    if (progress_) {
      const double seen = static_cast<double>(first + rows);
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      progress_->step(epoch + 1, step + 1, loss_sum / seen, static_cast<double>(correct) / seen,
                      seen / std::max(1e-9, seconds));
    }
  }
  out.loss = loss_sum / static_cast<double>(n);
  out.accuracy = static_cast<double>(correct) / static_cast<double>(n);
  return out;
}

double GradientEngine::accuracy(const Samples& split) {
  if (split.size() == 0) return 0.0;
  std::int64_t correct = 0;
  for_each_batch(split, batch_, [&](std::int64_t first, int rows) {
    const std::span<std::int32_t> out(predicted_.data(), static_cast<std::size_t>(rows));
    model_->predict(split.x.middleRows(first, rows), out);
    for (int i = 0; i < rows; ++i)
      correct += out[static_cast<std::size_t>(i)] == split.y[static_cast<std::size_t>(first + i)];
  });
  return static_cast<double>(correct) / static_cast<double>(split.size());
}

std::optional<double> GradientEngine::loss(const Samples& split) {
  if (split.size() == 0) return std::nullopt;
  Rng unused;  // eval mode draws nothing
  double sum = 0;
  for_each_batch(split, batch_, [&](std::int64_t first, int rows) {
    model_->forward(split.x.middleRows(first, rows), Mode::eval, unused);
    const std::span<const std::int32_t> labels(split.y.data() + first,
                                               static_cast<std::size_t>(rows));
    sum += rows * nn::softmax_cross_entropy(model_->logits(), labels, probs_.topRows(rows),
                                            dlogits_.topRows(rows));
  });
  return sum / static_cast<double>(split.size());
}

void GradientEngine::unit_sums(const Samples& samples, std::span<std::int64_t> sums) {
  std::fill(sums.begin(), sums.end(), 0);
  Rng unused;  // eval mode draws nothing
  for_each_batch(samples, batch_, [&](std::int64_t first, int rows) {
    model_->forward(samples.x.middleRows(first, rows), Mode::eval, unused);
    model_->accumulate_unit_sums(sums);
  });
}

void GradientEngine::end_epoch(int epoch, Rng& rng, Figures& out) {
  model_->on_epoch_end(epoch, rng, out);
  // A rewired mask: connections that were removed must not come back with stale momentum.
  for (const Parameter* p : parameters_)
    if (p->has_mask()) optimizer_->reset(*p);
}

void GradientEngine::end_task(const Task& task, Rng& rng) {
  for (auto& regularizer : regularizers_) regularizer->end_task(*model_, task, rng);
}

void GradientEngine::save(StateStore& out) const {
  model_->save(out, "model/");
  for (const Parameter* p : parameters_) {
    out.put("param/" + p->name, p->value);
    if (p->has_mask()) out.put("mask/" + p->name, p->mask);
  }
  optimizer_->save(out, "optimizer/");
  for (std::size_t i = 0; i < regularizers_.size(); ++i)
    regularizers_[i]->save(out, "regularizer" + std::to_string(i) + "/");
}

void GradientEngine::load(const StateStore& in) {
  // The model's structure first (masks, grown parts), then the parameter values into it.
  model_->load(in, "model/");
  model_->reserve(batch_);
  parameters_ = model_->parameters();
  for (Parameter* p : parameters_) {
    in.get("param/" + p->name, p->value);
    if (p->has_mask()) in.get("mask/" + p->name, p->mask);
  }
  optimizer_ = make_optimizer(train_, parameters_);
  optimizer_->load(in, "optimizer/");
  for (std::size_t i = 0; i < regularizers_.size(); ++i)
    regularizers_[i]->load(in, "regularizer" + std::to_string(i) + "/");
}

}  // namespace ablate
