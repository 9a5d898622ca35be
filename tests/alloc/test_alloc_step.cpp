// No heap allocation inside the steady-state training step: global operator new (and malloc,
// which Eigen uses) are replaced by counting versions, and every step of two epochs (batch
// gather, forward with dropout, loss, backward, clipping, optimizer step, argmax; the last
// batch of each epoch partial) is counted.
#include <link.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>
#include <numeric>
#include <utility>
#include <vector>

#include "ablate/nn.hpp"
#include "optim/optimizer.hpp"

// Eigen allocates with malloc, not operator new: malloc and its family are interposed too,
// forwarding to glibc's own implementation, so every heap allocation in the process is seen.
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);
}

namespace {
std::atomic<bool> counting{false};
std::atomic<long> allocations{0};
// OpenBLAS's threaded GEMM driver mallocs its small job table on each call (built with a large
// MAX_CPU_NUMBER). That is the BLAS's own business: counted apart, and reported.
std::atomic<long> blas_allocations{0};
std::uintptr_t blas_begin = 0, blas_end = 0;  // OpenBLAS's code, found before counting starts

int find_openblas(dl_phdr_info* info, std::size_t, void*) {
  if (!info->dlpi_name || !std::strstr(info->dlpi_name, "openblas")) return 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const auto& segment = info->dlpi_phdr[i];
    if (segment.p_type != PT_LOAD || (segment.p_flags & PF_X) == 0) continue;
    blas_begin = info->dlpi_addr + segment.p_vaddr;
    blas_end = blas_begin + segment.p_memsz;
  }
  return 1;
}

void count(const void* caller = nullptr) {
  if (!counting.load(std::memory_order_relaxed)) return;
  const auto at = reinterpret_cast<std::uintptr_t>(caller);
  if (at >= blas_begin && at < blas_end)
    blas_allocations.fetch_add(1, std::memory_order_relaxed);
  else
    allocations.fetch_add(1, std::memory_order_relaxed);
}

void* counted_new(std::size_t size, std::size_t align = 0) {
  count();
  void* p = align > alignof(std::max_align_t) ? __libc_memalign(align, size ? size : 1)
                                              : __libc_malloc(size ? size : 1);
  if (!p) throw std::bad_alloc();
  return p;
}
}  // namespace

extern "C" {
void* malloc(std::size_t size) {
  count(__builtin_return_address(0));
  return __libc_malloc(size);
}
void* calloc(std::size_t n, std::size_t size) {
  count(__builtin_return_address(0));
  return __libc_calloc(n, size);
}
void* realloc(void* p, std::size_t size) {
  count(__builtin_return_address(0));
  return __libc_realloc(p, size);
}
void* memalign(std::size_t align, std::size_t size) {
  count(__builtin_return_address(0));
  return __libc_memalign(align, size);
}
void* aligned_alloc(std::size_t align, std::size_t size) {
  count(__builtin_return_address(0));
  return __libc_memalign(align, size);
}
int posix_memalign(void** out, std::size_t align, std::size_t size) {
  count(__builtin_return_address(0));
  void* p = __libc_memalign(align, size);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}
void free(void* p) { __libc_free(p); }
}

void* operator new(std::size_t size) { return counted_new(size); }
void* operator new[](std::size_t size) { return counted_new(size); }
void* operator new(std::size_t size, std::align_val_t a) {
  return counted_new(size, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t size, std::align_val_t a) {
  return counted_new(size, static_cast<std::size_t>(a));
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return counted_new(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return counted_new(size);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept { __libc_free(p); }
void operator delete[](void* p) noexcept { __libc_free(p); }
void operator delete(void* p, std::size_t) noexcept { __libc_free(p); }
void operator delete[](void* p, std::size_t) noexcept { __libc_free(p); }
void operator delete(void* p, std::align_val_t) noexcept { __libc_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { __libc_free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { __libc_free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { __libc_free(p); }

using namespace ablate;

namespace {

Params optimizer_params(const std::string& name) {
  return Params({{"optimizer", name},
                 {"momentum", 0.9},
                 {"nesterov", true},
                 {"weight_decay", 1e-4},
                 {"beta1", 0.9},
                 {"beta2", 0.999},
                 {"eps", 1e-8}});
}

/// Allocations made by `epochs` epochs of training steps after one warm-up epoch.
long allocations_in_steps(const std::string& optimizer, nn::Activation act, int threads) {
  set_threads(threads);
  const int batch = 32, samples = 100, features = 64, classes = 10;  // 100 = 3 x 32 + 4
  Rng rng(1);
  Matrix data(samples, features);
  for (Eigen::Index i = 0; i < data.size(); ++i) data.data()[i] = static_cast<float>(rng.normal());
  std::vector<std::int32_t> labels(samples);
  for (auto& y : labels) y = static_cast<std::int32_t>(rng.below(classes));

  nn::Mlp mlp({{features, 256, 128, classes}, act, 0.1, false, ""}, rng);
  mlp.reserve(batch);
  const auto params = mlp.parameters();
  auto opt = make_optimizer(optimizer_params(optimizer), params);
  Matrix x(batch, features), probs(batch, classes), dlogits(batch, classes);
  std::vector<std::int32_t> y(batch), predicted(batch);
  std::vector<std::uint32_t> order(samples);
  std::iota(order.begin(), order.end(), 0u);

  auto epoch = [&] {
    rng.shuffle(std::span<std::uint32_t>(order));
    for (int first = 0; first < samples; first += batch) {
      const int rows = std::min(batch, samples - first);
      const std::span<const std::uint32_t> samples(order.data() + first,
                                                   static_cast<std::size_t>(rows));
      nn::gather_rows(data, samples, x);
      for (int i = 0; i < rows; ++i)
        y[static_cast<std::size_t>(i)] = labels[samples[static_cast<std::size_t>(i)]];
      const std::span<const std::int32_t> batch_labels(y.data(), static_cast<std::size_t>(rows));
      mlp.forward(x.topRows(rows), Mode::train, rng);
      nn::softmax_cross_entropy(mlp.output(), batch_labels, probs.topRows(rows),
                                dlogits.topRows(rows));
      mlp.backward(x.topRows(rows), dlogits.topRows(rows), false);
      clip_grad_norm(params, 0.5);
      opt->step(0.01f);
      nn::argmax(probs.topRows(rows), std::span<std::int32_t>(predicted.data(), rows));
    }
  };
  epoch();  // warm-up: lazily built things (the thread pool) are built here
  if (blas_end == 0) dl_iterate_phdr(find_openblas, nullptr);
  allocations = blas_allocations = 0;
  counting = true;
  epoch();
  epoch();
  counting = false;
  static bool reported = false;
  if (blas_allocations > 0 && !std::exchange(reported, true))
    WARN("OpenBLAS's threaded GEMM driver made " << blas_allocations.load() << " allocations in "
                                                 << 2 * ((samples + batch - 1) / batch)
                                                 << " steps at " << threads << " threads");
  return allocations.load();
}

}  // namespace

TEST_CASE("the counter sees operator new and Eigen's allocations", "[alloc]") {
  allocations = 0;
  counting = true;
  auto* v = new std::vector<int>(100);
  Matrix m(3, 3);
  counting = false;
  delete v;
  CHECK(allocations.load() == 3);
  CHECK(blas_allocations.load() == 0);
}

TEST_CASE("no allocation in steady-state training steps", "[alloc]") {
  const int before = threads();
  for (const char* optimizer : {"sgd", "adam", "adamw"})
    for (nn::Activation act : {nn::Activation::relu, nn::Activation::gelu, nn::Activation::tanh})
      for (int t : {1, 2}) {
        INFO(optimizer << ", " << nn::to_string(act) << ", " << t << " thread(s)");
        CHECK(allocations_in_steps(optimizer, act, t) == 0);
      }
  set_threads(before);
}
