#pragma once
// The host's own parallel loops (elementwise work such as optimizer updates), on the thread
// count set by ablate::set_threads. Chunk boundaries depend only on the element count and the
// thread count, and every element is processed by exactly one chunk, so an elementwise loop
// gives bit-identical results at any thread count.
#include <cstddef>
#include <type_traits>
#include <utility>

namespace ablate {

/// A non-owning reference to a callable `void(std::size_t begin, std::size_t end)`: passing
/// one never allocates (std::function may).
class RangeFn {
 public:
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, RangeFn>>>
  RangeFn(F&& f)  // NOLINT: implicit, like std::function
      : object_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* o, std::size_t b, std::size_t e) {
          (*static_cast<std::decay_t<F>*>(o))(b, e);
        }) {}
  void operator()(std::size_t begin, std::size_t end) const { call_(object_, begin, end); }

 private:
  void* object_;
  void (*call_)(void*, std::size_t, std::size_t);
};

/// Runs body over [0, count) cut into contiguous chunks (at most 16384 elements, boundaries at
/// multiples of 16: 64 bytes of floats, so no two threads write one cache line) that the calling
/// thread (chunk 0 first) and up to threads() - 1 pool workers claim in turn. Counts below
/// `min_parallel` run on the calling thread in one chunk. Blocks until every chunk is done. Never allocates once the
/// pool for the current thread count exists (built on first use, rebuilt when the count
/// changes). A parallel_for called from inside `body` runs its own body on the calling thread,
/// in one chunk.
void parallel_for(std::size_t count, std::size_t min_parallel, RangeFn body);

/// Runs body(part, part + 1) for each part in [0, parts), each on one thread: the calling
/// thread runs part 0 and the pool's workers claim the others (the caller takes those still
/// unclaimed when it is done). Work cut into threads() parts with cut() below thus mostly stays,
/// step after step, on the thread that handled the same part before: the GEMMs
/// (ablate/tensor.hpp) and the optimizer cut a layer's units alike, so each thread updates the
/// weights it computed. Serial, in order, on one thread or when called from inside a job.
void parallel_parts(std::size_t parts, RangeFn body);

/// Part `part` of [0, count) cut into `parts` blocks of equal size (the last one shorter),
/// a multiple of 16; the part boundaries parallel_for uses when its chunks are not capped.
struct Block {
  std::size_t begin, end;
};
Block cut(std::size_t count, std::size_t parts, std::size_t part);

/// True on a thread running a job of the pool (parallel_for or parallel_parts): loops started
/// there run inline.
bool in_parallel_job();

/// Whether idle pool workers poll for the next job (up to ~100 us) before they sleep. On when
/// the host threads the GEMMs itself: a step is then a dozen short jobs in a row, and a woken
/// worker would start each ~18 us late. Off when OpenBLAS threads them: its own workers need
/// the cores between our jobs.
void set_pool_polling(bool poll);

}  // namespace ablate
