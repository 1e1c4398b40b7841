"""Reading what a wall holds without running it, for the commands and the operator console.

* :mod:`agora.reading.offline` — what the config's offline sources (``jsonl``, ``simulator``)
  hold, ingested in memory (``agora analyse`` and ``snapshot`` without ``--data-dir``, the
  console's preview of a wall that has not run);
* :mod:`agora.reading.stored` — what a wall's store holds, opened read-only while the wall may be
  running (``--data-dir``), with the operators' decisions applied; the console's view of the
  store (it records decisions through it);
* :mod:`agora.reading.trial` — one fetch round of one source entry (the console's "Test this
  source").

Qt-free: the console runs these on worker threads.
"""
