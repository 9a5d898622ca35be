// nn/parallel.hpp: a small persistent pool with self-scheduled chunks.
// A woken worker starts late: ~18 us on this 2-vCPU VM when idle, much later when other
// processes share the cores. So the work is cut into chunks that the caller and the workers
// claim one by one: the caller never waits for a worker that has not started, only for chunks
// a running worker already claimed; at worst the loop runs at one thread's speed.
// Workers sleep on a futex between jobs and never poll: a thread that spins with sched_yield
// keeps, under CFS, the core it shares with OpenBLAS's workers and slows the GEMMs after it
// (measured: training steps several times slower at 2 threads).
#include "nn/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "ablate/tensor.hpp"

namespace ablate {
namespace {

constexpr std::size_t kAlign = 16;     // floats per cache line
constexpr std::size_t kChunk = 16384;  // elements per claim: a few microseconds of work
constexpr int kCallerSpins = 4096;     // about 10 us of pause before the caller sleeps

class Pool {
 public:
  explicit Pool(int threads) {
    workers_.reserve(static_cast<std::size_t>(threads - 1));
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { work(); });
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

  void run(std::size_t count, const RangeFn& body) {
    body_ = &body;
    count_ = count;
    // Chunk boundaries: a function of count and the thread count only.
    const std::size_t parts = static_cast<std::size_t>(size());
    const std::size_t even = (count + parts - 1) / parts;
    chunk_ = std::min(kChunk, (even + kAlign - 1) / kAlign * kAlign);
    chunks_.store(static_cast<std::uint32_t>((count + chunk_ - 1) / chunk_),
                  std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    const std::uint64_t job = generation_.load(std::memory_order_relaxed) + 1;
    ticket_.store(job << 32, std::memory_order_release);
    generation_.store(job, std::memory_order_release);
    generation_.notify_all();

    claim_and_run(job);
    const std::uint32_t chunks = chunks_.load(std::memory_order_relaxed);
    for (int spin = 0; spin < kCallerSpins && done_.load(std::memory_order_acquire) != chunks;
         ++spin)
      __builtin_ia32_pause();
    for (std::uint32_t done; (done = done_.load(std::memory_order_acquire)) != chunks;)
      done_.wait(done, std::memory_order_acquire);
  }

 private:
  /// Claims chunks of job `job` until none are left; a late worker finds none and returns.
  void claim_and_run(std::uint64_t job) {
    std::uint64_t ticket = ticket_.load(std::memory_order_acquire);
    for (;;) {
      if ((ticket >> 32) != job ||
          static_cast<std::uint32_t>(ticket) >= chunks_.load(std::memory_order_relaxed))
        return;
      if (!ticket_.compare_exchange_weak(ticket, ticket + 1, std::memory_order_acq_rel)) continue;
      const std::size_t begin = static_cast<std::uint32_t>(ticket) * chunk_;
      (*body_)(begin, std::min(count_, begin + chunk_));
      if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 ==
          chunks_.load(std::memory_order_relaxed))
        done_.notify_one();
      ticket = ticket_.load(std::memory_order_acquire);
    }
  }

  void work() {
    std::uint64_t seen = 0;
    for (;;) {
      generation_.wait(seen, std::memory_order_acquire);
      seen = generation_.load(std::memory_order_acquire);
      if (stop_.load(std::memory_order_relaxed)) return;
      claim_and_run(seen);
    }
  }

  std::vector<std::thread> workers_;
  std::atomic<std::uint64_t> generation_{0};  // the job being run; workers sleep on it
  std::atomic<std::uint64_t> ticket_{0};      // job << 32 | next unclaimed chunk
  std::atomic<std::uint32_t> done_{0};        // chunks finished
  std::atomic<bool> stop_{false};
  // The current job, written before it is published through generation_ and ticket_.
  const RangeFn* body_ = nullptr;
  std::size_t count_ = 0, chunk_ = 0;
  std::atomic<std::uint32_t> chunks_{0};  // read by late workers of an earlier job
};

}  // namespace

void parallel_for(std::size_t count, std::size_t min_parallel, RangeFn body) {
  const int wanted = threads();
  if (wanted <= 1 || count < std::max<std::size_t>(min_parallel, 2 * kAlign)) {
    if (count > 0) body(0, count);
    return;
  }
  // One pool per process, rebuilt only when the thread count changes. Calls do not overlap
  // (the training step is sequential); the lock keeps an accidental overlap correct.
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
