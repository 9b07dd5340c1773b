"""Shared building blocks of the generators: chip numbering and vectorised dimension links."""

from collections.abc import Iterable

import networkx as nx
import numpy as np


def chip_lines(sizes: tuple[int, ...], dim: int, offset: int = 0) -> np.ndarray:
    """Chip ids along dimension `dim`: an array (chips / sizes[dim], sizes[dim]).

    Chips are numbered mixed-radix with dimension 0 fastest, so the id array reshaped to the
    reversed sizes has dimension d on axis n-1-d.
    """
    n = len(sizes)
    ids = np.arange(int(np.prod(sizes)), dtype=np.int64).reshape(tuple(reversed(sizes))) + offset
    return np.moveaxis(ids, n - 1 - dim, -1).reshape(-1, sizes[dim])


def chip_coords(sizes: tuple[int, ...]) -> np.ndarray:
    """(chips, len(sizes)) array of coordinates, dimension 0 fastest."""
    ids = np.arange(int(np.prod(sizes)), dtype=np.int64)
    out = np.empty((ids.size, len(sizes)), dtype=np.int64)
    for d, s in enumerate(sizes):
        out[:, d] = ids % s
        ids = ids // s
    return out


def ring_pairs(lines: np.ndarray) -> np.ndarray:
    """(u, v) pairs linking each chip of a line to the next, wrapping; a line of 2 has one link."""
    size = lines.shape[1]
    steps = range(size) if size > 2 else range(1)
    return np.concatenate([np.stack([lines[:, i], lines[:, (i + 1) % size]], axis=1) for i in steps])


def mesh_pairs(lines: np.ndarray) -> np.ndarray:
    """(u, v) pairs for every pair of chips within each line."""
    i, j = np.triu_indices(lines.shape[1], k=1)
    return np.stack([lines[:, i].ravel(), lines[:, j].ravel()], axis=1)


def add_links(graph: nx.Graph, pairs: Iterable, **attrs: object) -> None:
    """Add links with the same attributes; pairs are sorted first so graphs are reproducible."""
    arr = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    arr = arr[np.lexsort((arr[:, 1], arr[:, 0]))]
    graph.add_edges_from(((int(u), int(v)) for u, v in arr), **attrs)


def add_chips(graph: nx.Graph, sizes: tuple[int, ...], **attrs: object) -> None:
    coords = chip_coords(sizes)
    graph.add_nodes_from((i, {"kind": "chip", "coords": tuple(int(c) for c in row), **attrs})
                         for i, row in enumerate(coords))


def add_switches(graph: nx.Graph, count: int, role: str, **attrs: object) -> list[int]:
    """Append `count` switch nodes after the existing ones; returns their ids."""
    start = graph.number_of_nodes()
    ids = list(range(start, start + count))
    graph.add_nodes_from(ids, kind="switch", role=role, cabinet=-1, board=-1, **attrs)
    return ids


def switch_level_graph(level, coords: np.ndarray) -> nx.Graph:
    """The per-chip graph of a `SwitchLevel`: chips (with `coords`), then its switches by role, the
    chips' terminal links in chip order, then the switch bundles in the level's order."""
    graph = nx.Graph()
    graph.add_nodes_from((c, {"kind": "chip", "cabinet": -1, "board": -1, "coords": tuple(int(x) for x in row)})
                         for c, row in enumerate(coords))
    for role, count in level.roles:
        add_switches(graph, count, role)
    chips = level.chips
    graph.add_edges_from(((c, chips + int(s)) for c, s in enumerate(level.attach)),
                         bandwidth_GBps=level.terminal_GBps, latency_ns=level.terminal_latency_ns, lanes=1,
                         kind=level.terminal_kind)
    for (u, v), bw, lat, lanes, kind in zip(level.edges, level.bandwidth_GBps, level.latency_ns, level.lanes,
                                            level.kind, strict=True):
        graph.add_edge(chips + int(u), chips + int(v), bandwidth_GBps=float(bw), latency_ns=float(lat),
                       lanes=int(lanes), kind=str(kind))
    return graph
