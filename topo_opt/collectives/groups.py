"""Groups of chips that run a collective at the same time, and how they line up with the fabric.

A spec is one of:

- ``None`` / ``"all"``: one group of every chip;
- ``"board"``, ``"rack"``, ``"pod"``: UB-Mesh's board (X), rack (X, Y) and pod (X, Y, Z, W),
  a rail-optimized Clos's server; on other fabrics, chips sharing a node ``board`` or
  ``cabinet`` attribute;
- a layout ``"tp=8,pp=8,dp=128"``: axes mapped innermost-first onto chip indices (tp the
  fastest); the groups are those of the first axis, or of the axis named after ``@``
  (``"tp=8,pp=8,dp=128@dp"``: 64 data-parallel groups of 128 chips).

A group is *aligned* when its ranks are whole fabric dimensions: rank digits = coordinates
along those axes. Aligned groups let the engine use the fabric's symmetry.
"""

import math
from dataclasses import dataclass

import numpy as np

from topo_opt.collectives.routing import Network
from topo_opt.collectives.schedule import GroupShape
from topo_opt.errors import InstanceError
from topo_opt.instance import parse_layout

_NAMED_ATTR = {"board": "board", "rack": "cabinet"}


class GroupError(ValueError):
    """A groups spec that does not fit the fabric."""


@dataclass(frozen=True, eq=False)
class Groups:
    spec: str
    chips: np.ndarray  # (groups, p): chip of each rank in each group
    shape: GroupShape
    axes: tuple[int, ...] | None  # fabric axes of the digits, when aligned

    @property
    def count(self) -> int:
        return self.chips.shape[0]

    @property
    def p(self) -> int:
        return self.chips.shape[1]


def make_groups(net: Network, spec: str | None) -> Groups:
    spec = spec or "all"
    view, chips = net.view, net.chips
    if spec == "all":
        axes = tuple(a for a, s in enumerate(view.sizes) if s > 1) if view else None
        return _aligned(net, spec, axes) if view else _plain(net, spec, np.arange(chips)[None, :])
    if spec in ("board", "rack", "pod"):
        axes = net.desc.named_group(spec) if view is not None else None
        if axes is not None:
            return _aligned(net, spec, tuple(a for a in axes if view.sizes[a] > 1))
        return _by_attribute(net, spec)
    return _layout(net, spec)


def _aligned(net: Network, spec: str, axes: tuple[int, ...]) -> Groups:
    view = net.view
    sizes = view.sizes
    n = len(sizes)
    ids = np.arange(net.chips).reshape(tuple(reversed(sizes)))
    others = [n - 1 - a for a in range(n) if a not in axes]
    inner = [n - 1 - a for a in sorted(axes, reverse=True)]
    p = math.prod(sizes[a] for a in axes)
    chips = np.transpose(ids, others + inner).reshape(-1, p)
    dims = tuple(view.dim_of_axis(a) for a in axes)
    extras = tuple((d, tuple(axes.index(a) for a in d.axes)) for d in view.extras
                   if all(a in axes for a in d.axes))
    return Groups(spec, chips, GroupShape(tuple(sizes[a] for a in axes), dims, extras), axes)


def _plain(net: Network, spec: str, chips: np.ndarray) -> Groups:
    return Groups(spec, chips, GroupShape((chips.shape[1],)), None)


def _by_attribute(net: Network, spec: str) -> Groups:
    attr = _NAMED_ATTR.get(spec)
    if net.graph is None:  # a structured network: boards and cabinets are the per-chip graph's attributes
        attr = None
    values = np.array([net.graph.nodes[c].get(attr, -1) if attr else -1 for c in range(net.chips)])
    if (values < 0).any():
        raise GroupError(f"this {net.desc.family} fabric defines no {spec}s; "
                         "use 'all' or a layout such as tp=8,dp=16")
    order = np.lexsort((np.arange(net.chips), values))
    sizes = np.bincount(values)
    sizes = sizes[sizes > 0]
    if (sizes != sizes[0]).any():
        raise GroupError(f"the fabric's {spec}s hold different numbers of chips")
    return _plain(net, spec, order.reshape(-1, int(sizes[0])))


def _layout(net: Network, spec: str) -> Groups:
    text, _, axis_name = spec.partition("@")
    try:
        layout = parse_layout(text)
    except InstanceError as exc:  # reworded for this context
        raise GroupError(f"bad layout {spec!r}: write e.g. tp=8,pp=8,dp=128 or tp=8,pp=8,dp=128@dp") from exc
    names = [name for name, _ in layout]
    axis_name = axis_name or names[0]
    if axis_name not in names:
        raise GroupError(f"layout {text!r} has no axis {axis_name!r} (axes: {', '.join(names)})")
    total = math.prod(size for _, size in layout)
    if total != net.chips:
        raise GroupError(f"layout {text!r} covers {total} chips but the fabric has {net.chips}")
    which = names.index(axis_name)
    stride = math.prod(size for _, size in layout[:which])
    p = layout[which][1]
    axes = _aligned_axes(net, stride, p)
    if axes is not None:
        return _aligned(net, spec, axes)
    sizes = tuple(size for _, size in layout)
    ids = np.arange(net.chips).reshape(tuple(reversed(sizes)))
    n = len(sizes)
    moved = np.moveaxis(ids, n - 1 - which, -1).reshape(-1, p)
    return _plain(net, spec, moved)


def _aligned_axes(net: Network, stride: int, size: int) -> tuple[int, ...] | None:
    """Fabric axes whose chip-index strides run from `stride` over exactly `size` chips, if any."""
    view = net.view
    if view is None or size == 1:
        return None
    axes, span = [], 1
    for a, (k, st) in enumerate(zip(view.sizes, view.strides, strict=True)):
        if k == 1:
            continue
        if not axes and st != stride:
            continue
        if span * k > size:
            break
        axes.append(a)
        span *= k
        if span == size:
            return tuple(axes)
    return None
