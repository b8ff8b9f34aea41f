"""``merge_logs``' task graph as a Dask DataFrame. Imports dask: only ``merge_logs`` imports
this module."""

from __future__ import annotations

import functools

from dask.dataframe.dask_expr._collection import new_collection
from dask.dataframe.dask_expr.io.io import FromGraph


class _NamedGraph(FromGraph):
    """``dd.from_graph``'s expression, named by the caller: ``from_graph`` names it by
    tokenizing the whole graph and the meta frame again, which was half the time
    ``merge_logs`` took to build its DataFrame."""

    @functools.cached_property
    def _name(self) -> str:
        return self.operand("name_prefix")


def graph_frame(graph: dict, meta, keys: list, name: str):
    """A DataFrame of unknown divisions whose partitions are the results of ``keys`` in
    ``graph``. ``name`` must be unique to the graph (a token of what built it)."""
    return new_collection(_NamedGraph(graph, meta, (None,) * (len(keys) + 1), keys, name))
