// nn/parallel.hpp: a small persistent pool. Steps come every few hundred microseconds, so a
// worker polls (yielding the core, as OpenBLAS's own workers do) for a while before it sleeps:
// a futex wake-up on a virtual machine can cost as much as the work it would start.
#include "nn/parallel.hpp"

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "ablate/tensor.hpp"

namespace ablate {
namespace {

constexpr std::size_t kAlign = 16;
constexpr auto kPollFor = std::chrono::milliseconds(2);

class Pool {
 public:
  explicit Pool(int threads) {
    workers_.reserve(static_cast<std::size_t>(threads - 1));
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { work(i); });
  }
  ~Pool() {
    stop_.store(true, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
    generation_.notify_all();
    for (auto& worker : workers_) worker.join();
  }
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  void run(std::size_t count, RangeFn body) {
    body_ = &body;
    count_ = count;
    pending_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
    generation_.notify_all();
    run_chunk(0);
    // The other chunks are as long as this one: poll, yielding the core if it is shared.
    for (int left; (left = pending_.load(std::memory_order_acquire)) != 0;) sched_yield();
    body_ = nullptr;
  }

 private:
  void run_chunk(int index) {
    const std::size_t parts = static_cast<std::size_t>(size());
    const std::size_t per = (count_ + parts - 1) / parts;
    const std::size_t chunk = (per + kAlign - 1) / kAlign * kAlign;
    const std::size_t begin = std::min(count_, chunk * static_cast<std::size_t>(index));
    const std::size_t end = std::min(count_, begin + chunk);
    if (begin < end) (*body_)(begin, end);
  }

  void work(int index) {
    std::uint64_t seen = 0;
    for (;;) {
      std::uint64_t now = generation_.load(std::memory_order_acquire);
      const auto since = std::chrono::steady_clock::now();
      while (now == seen) {
        if (std::chrono::steady_clock::now() - since < kPollFor) sched_yield();
        else generation_.wait(seen, std::memory_order_acquire);
        now = generation_.load(std::memory_order_acquire);
      }
      seen = now;
      if (stop_.load(std::memory_order_relaxed)) return;
      run_chunk(index);
      pending_.fetch_sub(1, std::memory_order_acq_rel);
    }
  }

  std::vector<std::thread> workers_;
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  const RangeFn* body_ = nullptr;
  std::size_t count_ = 0;
};

}  // namespace

void parallel_for(std::size_t count, std::size_t min_parallel, RangeFn body) {
  const int wanted = threads();
  if (wanted <= 1 || count < std::max<std::size_t>(min_parallel, 2 * kAlign)) {
    if (count > 0) body(0, count);
    return;
  }
  // One pool per process, rebuilt only when the thread count changes; callers do not overlap
  // (the training step is sequential), which the lock asserts cheaply.
  static std::mutex guard;
  static std::unique_ptr<Pool> pool;
  const std::lock_guard lock(guard);
  if (!pool || pool->size() != wanted) {
    pool.reset();
    pool = std::make_unique<Pool>(wanted);
  }
  pool->run(count, body);
}

}  // namespace ablate
