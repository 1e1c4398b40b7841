"""Where a long run's memory goes: ``agora bench soak --realtime M --trace FILE``.

RSS alone says that memory grows, not what holds it. Tracing starts before the wall is built
and its history ingested (so that what is freed later was traced when it was made: a trace
started late sees memory that replaces older memory, as a bounded cache turning over does, as
growth). From the end of the warm-up on, each sample also writes one JSON line to ``FILE`` with:

- ``traced_mb``: what Python's allocator holds for objects allocated since tracing started
  (``tracemalloc``), and ``top``: the allocation sites that grew most since the end of the
  warm-up (a few frames of traceback each);
- ``objects``: the Python types whose live count grew most since the end of the warm-up
  (``gc.get_objects``);
- ``anon_mb``: the process's anonymous memory (``/proc/self/smaps_rollup``: RSS without mapped
  files and libraries); ``py_blocks``: memory blocks Python's allocator has handed out (all of
  them, not only those since tracing started);
- ``malloc``: the C heap as glibc's ``mallinfo2`` sees it (``in_use_mb``: handed out by malloc,
  Qt's and Python's together; ``free_mb``: kept by malloc but not used; ``mmap_mb``);
- ``qt``: counts of live Qt things the wall can pile up (widgets, QObjects under the windows,
  items in every graphics scene), taken by the caller.

RSS growing while ``traced_mb`` and ``in_use_mb`` stay put is memory the allocator keeps (not a
leak in the code); ``in_use_mb`` growing while ``traced_mb`` does not is a C/Qt-side leak; a line
of ``top`` or ``objects`` that keeps growing names the Python code that holds on.

Qt-free: the Qt counts are passed in.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import json
import sys
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

#: Frames kept for each traced allocation: enough to see which wall code asked for it.
FRAMES = 8
#: Allocation sites and object types written per sample.
TOP = 12


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def malloc_mb() -> dict[str, float] | None:
    """glibc's view of the C heap in MiB (``None`` where ``mallinfo2`` is missing)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    libc = ctypes.CDLL(name)
    function = getattr(libc, "mallinfo2", None)
    if function is None:
        return None
    function.restype = _MallInfo2
    info = function()
    mib = float(2**20)
    return {
        "in_use_mb": round(info.uordblks / mib, 1),
        "free_mb": round(info.fordblks / mib, 1),
        "mmap_mb": round(info.hblkhd / mib, 1),
    }


def anonymous_mb() -> float | None:
    """The process's anonymous resident memory in MiB (``None`` off Linux)."""
    try:
        with open("/proc/self/smaps_rollup", encoding="ascii") as rollup:
            for line in rollup:
                if line.startswith("Anonymous:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def type_counts() -> Counter[str]:
    """Live objects the garbage collector tracks, counted by type name."""
    return Counter(type(item).__qualname__ for item in gc.get_objects())


class MemoryTrace:
    """Traces allocations from its creation on; writes one line per :meth:`record` to ``path``,
    compared with the baseline :meth:`start` took."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._base: tracemalloc.Snapshot | None = None
        self._base_types: Counter[str] = Counter()
        path.write_text("", encoding="utf-8")
        tracemalloc.start(FRAMES)

    @property
    def started(self) -> bool:
        """Whether the baseline has been taken (samples are written from then on)."""
        return self._base is not None

    def start(self) -> None:
        """Take the baseline (the end of the warm-up): later samples are compared with it."""
        self._base = tracemalloc.take_snapshot()
        self._base_types = type_counts()

    def record(self, minute: float, rss: float, qt: dict[str, int]) -> dict[str, Any]:
        """Write (and return) one sample: ``minute`` and ``rss`` of the run, ``qt`` counts."""
        if self._base is None:
            raise RuntimeError("start() first")
        snapshot = tracemalloc.take_snapshot()
        traced, _peak = tracemalloc.get_traced_memory()
        grown = [d for d in snapshot.compare_to(self._base, "traceback") if d.size_diff > 0]
        grown.sort(key=lambda d: d.size_diff, reverse=True)
        types = type_counts()
        types.subtract(self._base_types)
        line: dict[str, Any] = {
            "minute": round(minute, 2),
            "rss_mb": round(rss, 1),
            "traced_mb": round(traced / 2**20, 2),
            "anon_mb": anonymous_mb(),
            "py_blocks": sys.getallocatedblocks(),
            "malloc": malloc_mb(),
            "qt": qt,
            "objects": [[name, n] for name, n in types.most_common(TOP) if n > 0],
            "top": [
                {
                    "kb": round(d.size_diff / 1024, 1),
                    "count": d.count_diff,
                    "where": [f"{f.filename}:{f.lineno}" for f in d.traceback],
                }
                for d in grown[:TOP]
            ],
        }
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")
        return line

    def stop(self) -> None:
        """Stop tracing."""
        tracemalloc.stop()
        self._base = None
