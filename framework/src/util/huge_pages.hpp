#pragma once
// Huge pages for large buffers about to be filled.
#include <cstddef>

namespace ablate {

/// Asks the kernel to back the 2 MiB blocks inside [data, data + bytes) with huge pages when
/// they are first touched: call it between allocating a large buffer and filling it. Where a
/// page fault is costly (on this VM a 4 KiB fault is several microseconds) and where rows are
/// read in shuffled order (a page walk per row with 4 KiB pages), that pays; see
/// docs/DATASETS.md, "Memory". A hint: where the kernel has no huge pages, nothing changes.
void advise_huge_pages(const void* data, std::size_t bytes);

}  // namespace ablate
