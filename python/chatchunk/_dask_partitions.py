"""``merge_logs``' task graph as a Dask DataFrame. Imports dask: only ``merge_logs`` imports
this module."""

from __future__ import annotations

import functools

from dask.dataframe.dask_expr._collection import new_collection
from dask.dataframe.dask_expr.io.io import FromGraph


class _Partitions(FromGraph):
    """``dd.from_graph``'s expression for a graph whose partition tasks are already keyed
    ``(name, i)``. ``from_graph`` names the expression by tokenizing the whole graph and
    the meta frame (half the time ``merge_logs`` took to build it), then aliases each
    partition to a task: an extra task, a hop through the scheduler, per partition."""

    @functools.cached_property
    def _name(self) -> str:
        return self.operand("name_prefix")

    def _layer(self) -> dict:
        return dict(self.operand("layer"))


def graph_frame(graph: dict, meta, name: str, npartitions: int):
    """A DataFrame of unknown divisions whose partitions are the results of the tasks
    ``(name, 0)`` ... ``(name, npartitions - 1)`` of ``graph``; ``name`` unique to it."""
    keys = [(name, i) for i in range(npartitions)]
    return new_collection(_Partitions(graph, meta, (None,) * (npartitions + 1), keys, name))
