"""The figures of a wall's snapshot, one small accumulator each.

Each module holds one figure and everything about it: what it counts, its keys, its part of the
snapshot. Every figure answers the same four methods (:class:`~agora.core.figures.base.Figure`):
``add`` a batch, ``remove`` a post taken off the wall, ``prune`` as time passes, ``part`` of the
snapshot for a window.

* :mod:`~agora.core.figures.volume`: posts per minute by source, topic and moderation state;
* :mod:`~agora.core.figures.sentiment`: posts by sentiment label, overall and per topic;
* :mod:`~agora.core.figures.share`: each topic's share of voice, overall and per source;
* :mod:`~agora.core.figures.trending`: rising terms, written as people write them;
* :mod:`~agora.core.figures.authors`: the leaderboard;
* :mod:`~agora.core.figures.engagement`: replies, reposts and likes per post;
* :mod:`~agora.core.figures.care`: the brand's open questions and its reply times;
* :mod:`~agora.core.figures.kpis`: the headline numbers;
* :mod:`~agora.core.figures.featured` and :mod:`~agora.core.figures.posts`: the posts shown.

The per-minute counts that volume, sentiment, share, engagement and the KPIs read live in one
shared store with typed keys (:mod:`~agora.core.figures.counts`).
:class:`~agora.core.aggregates.Aggregates` feeds the figures and assembles the snapshot.
"""
