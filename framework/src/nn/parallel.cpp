// nn/parallel.hpp: a small persistent pool with self-scheduled chunks.
// A woken worker starts late: ~18 us on this 2-vCPU VM when idle, much later when other
// processes share the cores. So the work is cut into chunks that the caller and the workers
// claim one by one: the caller never waits for a worker that has not started, only for chunks
// a running worker already claimed; at worst the loop runs at one thread's speed.
// Workers sleep on a futex between jobs. They poll first (pause, no sched_yield) only while
// set_pool_polling is on, i.e. when OpenBLAS runs single-threaded: a thread that spins keeps,
// under CFS, the core it shares with OpenBLAS's workers and slows the GEMMs after it
// (measured: training steps several times slower at 2 threads).
#include "nn/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
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
// A worker's polling before it sleeps: longer than the serial gaps between the jobs of a
// training step (loss, small layers: a few us), short enough not to hold a core for long.
constexpr std::chrono::microseconds kWorkerPoll{100};

std::atomic<bool> polling{false};
thread_local bool inside_job = false;  // on a pool thread running a chunk, or a caller in run()

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

  /// body over [0, count) in chunks of `chunk`: this thread runs chunk 0, then it and the
  /// workers claim the others in turn.
  void run(std::size_t count, std::size_t chunk, const RangeFn& body) {
    body_ = &body;
    count_ = count;
    chunk_ = chunk;
    chunks_.store(static_cast<std::uint32_t>((count + chunk_ - 1) / chunk_),
                  std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    const std::uint64_t job = generation_.load(std::memory_order_relaxed) + 1;
    ticket_.store(job << 32 | 1, std::memory_order_release);  // chunk 0 is the caller's
    generation_.store(job, std::memory_order_release);
    generation_.notify_all();

    run_chunk(0);
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
      run_chunk(static_cast<std::uint32_t>(ticket));
      ticket = ticket_.load(std::memory_order_acquire);
    }
  }

  void run_chunk(std::size_t index) {
    const std::size_t begin = index * chunk_;
    (*body_)(begin, std::min(count_, begin + chunk_));
    if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 ==
        chunks_.load(std::memory_order_relaxed))
      done_.notify_one();
  }

  void work() {
    inside_job = true;  // a worker only ever runs chunks
    std::uint64_t seen = 0;
    for (;;) {
      seen = next_job(seen);
      if (stop_.load(std::memory_order_relaxed)) return;
      claim_and_run(seen);
    }
  }

  /// Waits for a generation other than `seen`: polls a while if polling is on, then sleeps.
  std::uint64_t next_job(std::uint64_t seen) {
    if (polling.load(std::memory_order_relaxed)) {
      const auto until = std::chrono::steady_clock::now() + kWorkerPoll;
      for (unsigned spin = 1;; ++spin) {
        const std::uint64_t now = generation_.load(std::memory_order_acquire);
        if (now != seen) return now;
        if (spin % 64 == 0 && std::chrono::steady_clock::now() > until) break;
        __builtin_ia32_pause();
      }
    }
    generation_.wait(seen, std::memory_order_acquire);
    return generation_.load(std::memory_order_acquire);
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

/// body over [0, count) in chunks of `chunk` on `threads` threads (> 1), from outside any job.
void run_on_pool(int threads, std::size_t count, std::size_t chunk, const RangeFn& body) {
  // One pool per process, rebuilt only when the thread count changes. Calls do not overlap
  // (the training step is sequential); the lock keeps an accidental overlap correct.
  static std::mutex guard;
  static std::unique_ptr<Pool> pool;
  const std::lock_guard lock(guard);
  if (!pool || pool->size() != threads) {
    pool.reset();
    pool = std::make_unique<Pool>(threads);
  }
  struct JobScope {  // nested calls run serially, even if body throws on this thread
    JobScope() { inside_job = true; }
    ~JobScope() { inside_job = false; }
  } scope;
  pool->run(count, chunk, body);
}

}  // namespace

bool in_parallel_job() { return inside_job; }

void set_pool_polling(bool poll) { polling.store(poll, std::memory_order_relaxed); }

void parallel_for(std::size_t count, std::size_t min_parallel, RangeFn body) {
  const int wanted = threads();
  if (wanted <= 1 || inside_job || count < std::max<std::size_t>(min_parallel, 2 * kAlign)) {
    if (count > 0) body(0, count);
    return;
  }
  // Chunk boundaries: a function of count and the thread count only.
  run_on_pool(wanted, count, std::min(kChunk, cut(count, static_cast<std::size_t>(wanted), 0).end),
              body);
}

void parallel_parts(std::size_t parts, RangeFn body) {
  const int wanted = threads();
  if (wanted <= 1 || inside_job || parts <= 1) {
    for (std::size_t part = 0; part < parts; ++part) body(part, part + 1);
    return;
  }
  run_on_pool(wanted, parts, 1, body);
}

Block cut(std::size_t count, std::size_t parts, std::size_t part) {
  const std::size_t even = (count + parts - 1) / parts;
  const std::size_t size = (even + kAlign - 1) / kAlign * kAlign;
  return {std::min(count, part * size), std::min(count, (part + 1) * size)};
}

}  // namespace ablate
