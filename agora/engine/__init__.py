"""The engine: config → store → pipeline → sources, running in worker threads, publishing snapshots.

Qt-free. The wall creates one :class:`Engine`, starts it and reads :attr:`Engine.snapshot` on its UI
tick; the commands (``analyse``, ``fetch``, ``bench``) use :func:`build_pipeline` directly.

Threads:

* the *source loop* (:mod:`~agora.engine.source_loop`): one asyncio event loop running every
  source's ``run`` coroutine; what sources deliver goes into the :mod:`~agora.engine.inbox`
  (bounded: sources wait while it is full);
* the *ingest thread* (:mod:`~agora.engine.engine`): works through the inbox, runs the pipeline,
  saves the sources' places once their posts are stored (:mod:`~agora.engine.cursors`), applies
  retention in small steps and publishes a new snapshot when something changed or the minute
  turned (:mod:`~agora.engine.publisher`); an operator's decision or a deletion is published at
  once. A hot reload (:mod:`~agora.engine.reload`) restarts only the sources whose entry changed.
"""

from agora.engine.cursors import CursorBook
from agora.engine.engine import Engine
from agora.engine.inbox import Inbox
from agora.engine.publisher import HEALTH_STATE_KEY
from agora.engine.wiring import build_pipeline, panel_windows, pipeline_changed, reenrich

__all__ = [
    "HEALTH_STATE_KEY",
    "CursorBook",
    "Engine",
    "Inbox",
    "build_pipeline",
    "panel_windows",
    "pipeline_changed",
    "reenrich",
]
