"""Schedules: what an algorithm sends, step by step, in the rank space of one group.

A group of p chips has ranks 0..p-1 written mixed-radix over its `shape` (digit 0 fastest);
when the group lines up with the fabric's product dimensions each digit is one dimension
(`GroupShape.dims`), otherwise the shape is just (p,). Every group of a layout runs the same
schedule at the same time.

A step is a set of flows that start together; steps run one after another. Flows come in two
forms:

- `Shift`: every rank r sends `size_bytes` to r + offset (digit-wise, modulo the shape). A
  digit equal to `STAR` stands for every non-zero value of that digit (one flow each), so
  ``Shift((STAR,), b)`` on a shape (p,) sends b to each of the p-1 other ranks. Shifts are
  translation-invariant, which lets the engine time them on one representative chip.
- `Explicit`: arrays of source rank, destination rank and bytes.

`via` names fabric dimensions a flow must take first (e.g. ``("y", "x")`` or ``("lrs",)``);
empty means the fabric's own routing.
"""

import itertools
import math
from dataclasses import dataclass

import numpy as np

from topo_opt.collectives.topology import Dim

STAR = -1


@dataclass(frozen=True)
class Shift:
    offset: tuple[int, ...]
    size_bytes: float
    via: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class Explicit:
    src: np.ndarray
    dst: np.ndarray
    size_bytes: np.ndarray
    via: tuple[str, ...] = ()


@dataclass(frozen=True)
class Step:
    parts: tuple
    repeat: int = 1


@dataclass(frozen=True)
class Schedule:
    """Steps run one after another. A pipelined schedule (`hops` > 0) forwards its chunks
    cut-through: its steps are chunk times, and the latency is paid once per hop of the longest
    path, `hops` times the largest step latency (exact on a uniform chain, an upper bound where
    tree edges span paths of different latency), instead of once per step (see `algorithms`);
    `latency_s`, when given, is that path's latency summed hop by hop from its dimensions'.
    A pipelined step is one period of a periodic schedule: the engine times it by its busiest link."""

    steps: tuple[Step, ...]
    chunks: int = 1  # pipelined algorithms: chunks the buffer is cut into
    hops: int = 0  # pipelined algorithms: hops of the longest path a chunk takes
    latency_s: float | None = None  # pipelined: the longest path's latency when the algorithm knows it


def pipeline_latency_s(schedule: Schedule, step_latency_s: float) -> float:
    """A pipeline's latency: the path latency it gives, else `hops` times its largest step latency."""
    return schedule.latency_s if schedule.latency_s is not None else schedule.hops * step_latency_s


@dataclass(frozen=True)
class GroupShape:
    """What an algorithm may know of its group: the digit sizes and, when aligned, their dimensions.

    `extras` are virtual dimensions (UB-Mesh's LRS) with the digit indices they span.
    """

    shape: tuple[int, ...]
    dims: tuple[Dim, ...] | None = None
    extras: tuple[tuple[Dim, tuple[int, ...]], ...] = ()

    @property
    def p(self) -> int:
        return math.prod(self.shape)


def explicit(src, dst, size_bytes: float | np.ndarray, via: tuple[str, ...] = ()) -> Explicit:
    src = np.asarray(src, dtype=np.int64)
    sizes = np.broadcast_to(np.asarray(size_bytes, dtype=float), src.shape).copy()
    return Explicit(src, np.asarray(dst, dtype=np.int64), sizes, via)


def merge(parts: list[Explicit]) -> Explicit:
    """One Explicit from several with the same `via`."""
    return Explicit(np.concatenate([p.src for p in parts]), np.concatenate([p.dst for p in parts]),
                    np.concatenate([p.size_bytes for p in parts]), parts[0].via)


def all_peers(shape: tuple[int, ...], size_bytes: float, via: tuple[str, ...] = ()) -> list[Shift]:
    """Shifts reaching every other rank once: one per non-empty set of digits that change."""
    out = []
    for pattern in itertools.product((0, STAR), repeat=len(shape)):
        if any(pattern) and all(k > 1 or d == 0 for k, d in zip(shape, pattern, strict=True)):
            out.append(Shift(pattern, size_bytes, via))
    return out


def line_peers(shape: tuple[int, ...], digits: tuple[int, ...], size_bytes: float,
               via: tuple[str, ...] = ()) -> list[Shift]:
    """Shifts to every rank that differs from the sender in some of `digits` and nowhere else."""
    sub = tuple(shape[i] for i in digits)
    out = []
    for shift in all_peers(sub, size_bytes, via):
        offset = [0] * len(shape)
        for i, d in zip(digits, shift.offset, strict=True):
            offset[i] = d
        out.append(Shift(tuple(offset), size_bytes, via))
    return out


def shift_pairs(shape: tuple[int, ...], shift: Shift) -> tuple[np.ndarray, np.ndarray]:
    """(src, dst) rank arrays of a Shift, its STAR digits expanded."""
    return shift_targets(shape, shift, np.arange(math.prod(shape), dtype=np.int64))


def shift_targets(shape: tuple[int, ...], shift: Shift, ranks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(i, dst): the flows of a Shift that leave `ranks`, its STAR digits expanded; flow j leaves
    ranks[i[j]] for rank dst[j]."""
    strides = np.cumprod((1,) + shape[:-1]).astype(np.int64)
    digits = (ranks[:, None] // strides) % np.array(shape)
    choices = [range(1, k) if d == STAR else (d,) for k, d in zip(shape, shift.offset, strict=True)]
    offsets = np.array(list(itertools.product(*choices)), dtype=np.int64).reshape(-1, len(shape))
    dst_digits = (digits[:, None, :] + offsets[None, :, :]) % np.array(shape)
    dst = (dst_digits @ strides).ravel()
    return np.repeat(np.arange(len(ranks)), len(offsets)), dst
