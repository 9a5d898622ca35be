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
/// thread and up to threads() - 1 pool workers claim in turn. Counts below `min_parallel` run on
/// the calling thread in one chunk. Blocks until every chunk is done. Never allocates once the
/// pool for the current thread count exists (built on first use, rebuilt when the count
/// changes). Not reentrant: `body` must not call parallel_for.
void parallel_for(std::size_t count, std::size_t min_parallel, RangeFn body);

}  // namespace ablate
