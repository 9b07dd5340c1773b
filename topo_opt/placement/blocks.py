"""Decomposition along the fabric's groups (UB-Mesh pods): a template per group, then groups to blocks.

1. Templates. For each group class (groups whose compute cabinets have the same bundles among
   themselves), and each canvas of h rows x w slots that fits the floor (h up to the longest run of
   rows its cooling admits, w = ceil(n / h)), annealing (`search.py`, two restarts) places the
   group's compute cabinets on the canvas alone, minimising their own bundles' cost: a template is
   (shape, offset of every cabinet, cost).
2. Blocks. A CP-SAT model puts every group's compute cabinets on the floor as one template at one
   anchor, and the other cabinets (interconnect) in single slots:

       a[g, o] in {0, 1}   group g uses option o = (template, anchor (row, position))
       y[i, s] in {0, 1}   loose cabinet i stands in slot s
       one_option[g]       sum_o a[g, o] = 1
       one_slot[i]         sum_s y[i, s] = 1
       slot_use[s]         sum_{(g, o) covering s} a[g, o] + sum_i y[i, s] <= 1
       row_power[r], zone_capacity[z]   as in the full problem, over both kinds of variables
       near[i, g, s, t]    p <= y[i, s],  p <= sum_{o of g covering t} a[g, o]  (i has bundles with g)
       pair[s, t]          q[s, t] <= sum_i y[i, s],  q[s, t] <= sum_i y[i, t]

   minimising  sum a[g, o] x template cost(o)
             - sum p[i, g, s, t] x mean saving of i's bundles to g at tier(s, t)
             - sum q[s, t] x density x mean saving of loose-loose bundles at tier(s, t)
   where a saving is cost(dearest tier on the floor) - cost(tier), each tier at its shortest run, and
   density = loose-loose bundles / loose pairs; (s, t) ranges over the pairs closer than the dearest
   tier. The proxy ignores bundles between
   different groups' compute cabinets (UB-Mesh has none). Its optimum is not a bound of the full
   problem; the full objective is recomputed and improved afterwards. A first fit (each group its
   cheapest free option, then loose cabinets the first free slots) is the complete hint.
"""

import dataclasses
import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from topo_opt.placement.cpsat import W_PER_KW, Budget, add_power_cap, make_solver, minimise_usd, run
from topo_opt.placement.problem import PlacementProblem, median_saving_usd, problem_from_parts, tier_floor_usd
from topo_opt.placement.search import anneal, step_time_s
from topo_opt.units import scale_int

TEMPLATE_MAX_CABINETS = 32
TEMPLATE_RESTARTS = 2
TEMPLATE_STEPS_RANGE = (200, 4000)  # per canvas and restart; 2,000 find the 38-link 2 x 8 pod
PROXY_RESOLUTION_USD = 100.0  # the block objective is a proxy: coarse coefficients keep CP-SAT's LP small
# canvases are small and start from a row-major fill: anneal hot (twice the median bundle's saving)
TEMPLATE_T_START, TEMPLATE_T_END = 2.0, 0.01


@dataclass(frozen=True)
class Template:
    rows: int
    cols: int
    offsets: np.ndarray  # (n, 2): (row, position) of each group cabinet, in group order
    cost_usd: float


def group_members(problem: PlacementProblem) -> tuple[list[np.ndarray], np.ndarray] | None:
    """Compute cabinets of each group and the loose (other) cabinets; None without usable groups."""
    groups: dict[int, list[int]] = defaultdict(list)
    for c in problem.cabinets:
        if c.kind == "compute":
            groups[c.group].append(c.index)
    members = [np.array(v) for _, v in sorted(groups.items())]
    if not members or max(len(m) for m in members) > TEMPLATE_MAX_CABINETS:
        return None
    if any(len(set(problem.cooling[m].tolist())) > 1 for m in members):
        return None
    inside = np.zeros(problem.n_cabinets, dtype=bool)
    for m in members:
        inside[m] = True
    return members, np.flatnonzero(~inside)


def _internal(problem: PlacementProblem, members: np.ndarray) -> dict[tuple[int, int], dict]:
    """The group's own bundles with cabinets renumbered 0..n-1 in member order."""
    local = {int(c): k for k, c in enumerate(members)}
    out = {}
    for a, b, bw, parts in zip(problem.bundle_a, problem.bundle_b, problem.bandwidth_GBps, problem.parts_GBps,
                               strict=True):
        if int(a) in local and int(b) in local:
            out[(local[int(a)], local[int(b)])] = {"bandwidth_GBps": float(bw), "parts_GBps": tuple(parts.tolist())}
    return out


def group_class_key(problem: PlacementProblem, members: np.ndarray) -> tuple:
    return (
        tuple(problem.power_kw[members].round(6)),
        tuple(problem.cooling[members]),
        tuple((k, tuple(round(x, 6) for x in v["parts_GBps"])) for k, v in _internal(problem, members).items()),
    )


def templates_for(
    problem: PlacementProblem, members: np.ndarray, budget_s: float, seed: int
) -> list[Template]:
    """Best layout of the group on every canvas that fits (step 1 of the module docstring); the
    annealing runs share `budget_s` of modelled step time (`search.step_time_s`)."""
    cooling = int(problem.cooling[members[0]])
    n = len(members)
    cabinets = tuple(dataclasses.replace(problem.cabinets[c], index=k) for k, c in enumerate(members))
    bundles = _internal(problem, members)
    shapes = _canvas_shapes(n, _longest_row_run(problem, cooling), problem.floor.slots_per_row)
    out = []
    for h, w in shapes:
        canvas = dataclasses.replace(
            problem.floor, rows=h, slots_per_row=w, row_power_kw=math.inf, cooling_zones=()
        )
        sub = problem_from_parts(problem.name, canvas, cabinets, problem.tier_media, bundles)
        share = budget_s / (len(shapes) * TEMPLATE_RESTARTS)
        steps = int(np.clip(share / step_time_s(sub), *TEMPLATE_STEPS_RANGE))
        scale = median_saving_usd(sub)
        runs = (
            anneal(sub, np.arange(n), steps, seed + k, TEMPLATE_T_START * scale, TEMPLATE_T_END * scale)
            for k in range(TEMPLATE_RESTARTS)
        )
        best = min(runs, key=lambda r: r.objective_usd)
        out.append(
            Template(h, w, np.stack([best.slot_of // w, best.slot_of % w], axis=1), best.objective_usd)
        )
    return out


def _canvas_shapes(n: int, max_rows: int, max_cols: int) -> list[tuple[int, int]]:
    """(h, ceil(n / h)) for h = 1.. while it fits, skipping an h as wide as h - 1 (no narrower)."""
    out = []
    for h in range(1, min(max_rows, n) + 1):
        w = math.ceil(n / h)
        if w <= max_cols and not (h > 1 and math.ceil(n / (h - 1)) == w):
            out.append((h, w))
    return out


def _longest_row_run(problem: PlacementProblem, cooling: int) -> int:
    ok = (
        problem.allowed[np.flatnonzero(problem.cooling == cooling)[0]]
        .reshape(problem.floor.rows, -1)
        .any(axis=1)
    )
    best = cur = 0
    for v in ok:
        cur = cur + 1 if v else 0
        best = max(best, cur)
    return best


def block_placement(problem: PlacementProblem, budget: Budget, template_s: float) -> np.ndarray | None:
    """Step 2 of the module docstring; a full placement, or None (no usable groups or no solution)."""
    found = group_members(problem)
    if found is None:
        return None
    members, loose = found
    classes: dict[tuple, list[Template]] = {}
    group_templates = []
    for m in members:
        key = group_class_key(problem, m)
        if key not in classes:
            classes[key] = templates_for(problem, m, template_s, budget.seed)
        group_templates.append(classes[key])
    options = [_options(problem, m, ts) for m, ts in zip(members, group_templates, strict=True)]
    if any(not o for o in options):
        return None
    model, a, y = _block_model(problem, members, loose, options)
    _hint(model, problem, options, a, y, loose)
    outcome = run(model, make_solver(budget))
    if not outcome.found:
        return None
    slot_of = np.full(problem.n_cabinets, -1, dtype=np.int64)
    for g, m in enumerate(members):
        for o in outcome.chosen(dict(enumerate(a[g]))):
            slot_of[m] = options[g][o][0]
    for i, s in outcome.chosen(y):
        slot_of[i] = s
    return slot_of


def _hint(
    model: cp_model.CpModel, problem: PlacementProblem, options: list[list[tuple]], a, y, loose
) -> None:
    """First fit, as a complete hint: each group takes its cheapest option that is still free, then
    loose cabinets the first free slots, both within row power (zones are left to the solver)."""
    used = np.zeros(problem.n_slots, dtype=bool)
    row_w = np.zeros(problem.floor.rows)
    cap_w = problem.row_cap_kw * W_PER_KW
    chosen = set()
    for g, opts in enumerate(options):
        for o in sorted(range(len(opts)), key=lambda o: opts[o][1]):
            slots, _, watts = opts[o]
            if not used[slots].any() and (row_w + watts <= cap_w + 1e-6).all():
                used[slots] = True
                row_w += watts
                chosen.add((g, o))
                break
    for g, vs in enumerate(a):
        for o, v in enumerate(vs):
            model.AddHint(v, (g, o) in chosen)
    placed = set()
    for i in loose:
        w = problem.power_kw[i] * W_PER_KW
        for s in np.flatnonzero(problem.allowed[i] & ~used):
            if row_w[problem.slot_row[s]] + w <= cap_w + 1e-6:
                used[s] = True
                row_w[problem.slot_row[s]] += w
                placed.add((int(i), int(s)))
                break
    for key, v in y.items():
        model.AddHint(v, key in placed)


def _options(problem: PlacementProblem, members: np.ndarray, templates: list[Template]) -> list[tuple]:
    """(slots of the members, template cost, row power in W) for every template and anchor that fits."""
    spr, rows = problem.floor.slots_per_row, problem.floor.rows
    out = []
    for t in templates:
        for r0 in range(rows - t.rows + 1):
            for p0 in range(spr - t.cols + 1):
                slots = (t.offsets[:, 0] + r0) * spr + t.offsets[:, 1] + p0
                if not problem.allowed[members, slots].all():
                    continue
                watts = np.bincount(
                    problem.slot_row[slots], [scale_int(p, W_PER_KW) for p in problem.power_kw[members]], rows
                )
                if (watts <= problem.row_cap_kw * W_PER_KW + 1e-6).all():
                    out.append((slots, t.cost_usd, watts.astype(np.int64)))
    return out


def _block_model(
    problem: PlacementProblem, members: list[np.ndarray], loose: np.ndarray, options: list[list[tuple]]
):
    model = cp_model.CpModel()
    a = [[model.NewBoolVar(f"a[{g},{o}]") for o in range(len(opts))] for g, opts in enumerate(options)]
    y = {
        (int(i), int(s)): model.NewBoolVar(f"y[{i},{s}]")
        for i in loose
        for s in np.flatnonzero(problem.allowed[i])
    }
    use: dict[int, list] = defaultdict(list)
    cover: list[dict[int, list]] = []
    for g, opts in enumerate(options):
        model.AddExactlyOne(a[g]).WithName(f"one_option[{g}]")
        cov: dict[int, list] = defaultdict(list)
        for o, (slots, _, _) in enumerate(opts):
            for s in slots:
                cov[int(s)].append(a[g][o])
        for s, vs in cov.items():
            use[s].extend(vs)
        cover.append(cov)
    occupied: dict[int, list] = defaultdict(list)
    for (_, s), v in y.items():
        occupied[s].append(v)
        use[s].append(v)
    for i in loose:
        model.AddExactlyOne(v for (ii, _), v in y.items() if ii == i).WithName(f"one_slot[{i}]")
    for s, vs in use.items():
        model.Add(sum(vs) <= 1).WithName(f"slot_use[{s}]")
    _block_capacity(model, problem, members, options, a, y)
    terms = [(opts[o][1], a[g][o]) for g, opts in enumerate(options) for o in range(len(opts))]
    terms += _near_terms(model, problem, members, loose, cover, y)
    terms += _pair_terms(model, problem, loose, occupied)
    minimise_usd(model, terms, PROXY_RESOLUTION_USD)
    return model, a, y


def _block_capacity(model, problem: PlacementProblem, members, options, a, y) -> None:
    rows: dict[int, list] = defaultdict(list)
    zones: dict[int, list] = defaultdict(list)
    for g, opts in enumerate(options):
        m = members[g]
        for o, (slots, _, watts) in enumerate(opts):
            for r in np.flatnonzero(watts):
                rows[int(r)].append((int(watts[r]), a[g][o]))
            zone_w = np.bincount(
                problem.zone_of(m, slots),
                [scale_int(p, W_PER_KW) for p in problem.power_kw[m]],
                problem.n_zones + 1,
            )
            for z in np.flatnonzero(zone_w[:-1]):
                zones[int(z)].append((int(zone_w[z]), a[g][o]))
    for (i, s), v in y.items():
        term = (scale_int(problem.power_kw[i], W_PER_KW), v)
        rows[int(problem.slot_row[s])].append(term)
        zones[int(problem.zone_of(i, s))].append(term)
    for r, terms in sorted(rows.items()):
        add_power_cap(model, terms, problem.row_cap_kw, f"row_power[{r}]")
    for z, terms in sorted(zones.items()):
        if z < problem.n_zones:
            add_power_cap(model, terms, problem.zone_cap_kw[z], f"zone_capacity[{problem.zone_names[z]}]")


def _savings(problem: PlacementProblem, bundles: np.ndarray) -> np.ndarray:
    """Mean saving per tier of a set of bundles: cost(dearest tier the floor has) - cost(tier), each
    tier at its shortest run, for the tiers 0..T (T, beyond every reach, saves a negative amount, so
    no term ever asks for it)."""
    if not len(bundles):
        return np.zeros(problem.n_tiers + 1)
    top = int(problem.tier[problem.tier < problem.n_tiers].max())
    cost = tier_floor_usd(problem)[bundles, : problem.n_tiers + 1]
    return (cost[:, top : top + 1] - cost).mean(axis=0)


def _near_terms(model, problem: PlacementProblem, members, loose, cover, y) -> list[tuple]:
    group_of = np.full(problem.n_cabinets, -1)
    for g, m in enumerate(members):
        group_of[m] = g
    terms = []
    for i in loose:
        mine = ((problem.bundle_a == i) & (group_of[problem.bundle_b] >= 0)) | (
            (problem.bundle_b == i) & (group_of[problem.bundle_a] >= 0)
        )
        if not mine.any():
            continue
        partner = np.where(problem.bundle_a[mine] == i, problem.bundle_b[mine], problem.bundle_a[mine])
        for g in np.unique(group_of[partner]):
            saving = _savings(problem, np.flatnonzero(mine)[group_of[partner] == g])
            for (ii, s), v in y.items():
                if ii != i:
                    continue
                for t, covering in cover[g].items():
                    gain = saving[problem.tier[s, t]] if t != s else 0.0
                    if gain > 0:
                        p = model.NewBoolVar(f"p[{i},{s},{t}]")
                        model.Add(p <= v)
                        model.Add(p <= sum(covering))
                        terms.append((-gain, p))
    return terms


def _pair_terms(
    model, problem: PlacementProblem, loose: np.ndarray, occupied: dict[int, list]
) -> list[tuple]:
    is_loose = np.zeros(problem.n_cabinets, dtype=bool)
    is_loose[loose] = True
    among = np.flatnonzero(is_loose[problem.bundle_a] & is_loose[problem.bundle_b])
    pairs = len(loose) * (len(loose) - 1) / 2
    if not len(among) or not pairs:
        return []
    saving = _savings(problem, among) * len(among) / pairs
    slots = sorted(occupied)
    terms = []
    for k, s in enumerate(slots):
        for t in slots[k + 1 :]:
            gain = saving[problem.tier[s, t]]
            if gain > 0:
                q = model.NewBoolVar(f"q[{s},{t}]")
                model.Add(q <= sum(occupied[s]))
                model.Add(q <= sum(occupied[t]))
                terms.append((-gain, q))
    return terms
