"""Source leases: two collectors configured with the same source entry do not both poll it.

Before a collector runs a source it takes the entry's lease in the shared store
(:meth:`agora.store.base.Store.acquire_lease`), and renews it every third of its time to live
while the source runs. A collector that cannot get the lease leaves the source idle and asks
again later; when the holder stops renewing (it stopped, crashed or lost the database), the lease
runs out and the next collector that asks takes the source over from the saved place. A
collector gives its leases back when it stops, so another takes over at once.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid

from agora.store.base import Store

log = logging.getLogger("agora.engine")

#: How long a lease lasts without being renewed, in seconds.
LEASE_TTL_S = 30.0


def holder_name(label: str = "") -> str:
    """A name for this process that no other process has: host, process id, a random part."""
    base = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    return f"{label}@{base}" if label else base


class LeaseKeeper:
    """Takes and renews the leases of one collector (thread-safe: the store is)."""

    def __init__(self, store: Store, holder: str, ttl_s: float = LEASE_TTL_S) -> None:
        self.store = store
        self.holder = holder
        self.ttl_s = ttl_s

    @property
    def renew_every(self) -> float:
        """Seconds between two renewals (a third of the lease's time)."""
        return self.ttl_s / 3.0

    def take(self, name: str) -> bool:
        """Take or renew the lease of source ``name``; ``False`` when another holds it (or the
        store cannot be asked: a collector cut off from the database stops polling, since its
        lease will run out and another may take over)."""
        try:
            return self.store.acquire_lease(name, self.holder, self.ttl_s)
        except Exception as exc:
            log.warning("lease of %s: cannot reach the store (%s)", name, exc)
            return False

    def holder_of(self, name: str) -> str | None:
        """Who holds the lease of ``name`` now, if the store can say."""
        try:
            return self.store.lease_holder(name)
        except Exception:
            return None

    def give_back(self, name: str) -> None:
        """Release the lease of ``name`` (best effort: it runs out anyway)."""
        try:
            self.store.release_lease(name, self.holder)
        except Exception as exc:
            log.debug("lease of %s: could not give it back (%s)", name, exc)
