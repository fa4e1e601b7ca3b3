"""`trainer.allocator=keep` (the default): glibc's malloc keeps the memory a run frees
instead of handing it back to the system, so the next tensor of the same size reuses it
rather than paying a page fault for every 4 KB of it.

A training step frees and allocates the same large tensors again and again. glibc returns a
freed block of 128 KB or more (its mmap threshold, raised on the fly up to 32 MiB) to the
system, and gives the heap's free top back above its trim threshold; the next allocation
then faults its pages in anew. That cost is small beside a matmul but not beside the
elementwise passes of the minimal cells' scan: at h 256, T 256 minGRU `parallel` trained
1.5x faster with glibc keeping its memory (`results/mingru.md`). PyTorch's CPU performance
guide reaches for jemalloc or tcmalloc for the same reason; this is the same effect with
the allocator the process already has, through `mallopt` (glibc caps the mmap threshold it
accepts there at 32 MiB, so larger tensors still come from mmap).

The setting is process-wide, as the thread count is: once a run has set it, it holds for
the rest of the process (`system` leaves glibc's defaults alone but does not restore them).
Where there is no glibc (macOS, Windows, musl) it does nothing.
"""

import ctypes
import functools
import logging
import sys

log = logging.getLogger(__name__)
ALLOCATORS = ("keep", "system")  # trainer.allocator
M_TRIM_THRESHOLD = -1  # glibc's mallopt parameters (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 1024 * 1024  # the largest glibc accepts on 64-bit (HEAP_MAX_SIZE / 2)
TRIM_THRESHOLD = 2**31 - 1  # mallopt takes a C int


@functools.cache
def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds, once per process; True where it took."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    kept = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    kept = mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and kept
    log.debug("glibc keeps freed memory: %s", kept)
    return kept


def use_allocator(choice: str) -> bool:
    """Apply `trainer.allocator`; True when glibc now keeps freed memory."""
    return keep_freed_memory() if choice == "keep" else False
