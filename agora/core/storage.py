"""What the core expects of a store when it cannot write, whatever the store is.

A store raises :class:`StoreUnavailableError` when it cannot keep anything right now (the disk is
full, an I/O error, the database is locked or gone): the pipeline then holds the batch back as a
whole instead of blaming its posts one by one, and the engine neither moves a source's saved place
past those posts nor tells a webhook caller they were taken.
"""

from __future__ import annotations


class StoreUnavailableError(Exception):
    """The store cannot write now; the data offered is not at fault."""
