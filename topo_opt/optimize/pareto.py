"""Pareto front and the recommendation.

a dominates b  <=>  a_k <= b_k for every objective k and a_k < b_k for one (all minimised).
The front is every candidate no other candidate dominates (O(n^2 k), n is a few hundred).
Recommendation order over the front: designs whose communication time is within `within` of the
front's fastest first, cheapest network first among them, then total power, then id; the
recommendation is the first that also passes the whole pipeline (placement).
"""

from collections.abc import Mapping, Sequence


def dominates(a: Mapping, b: Mapping, keys: Sequence[str]) -> bool:
    return all(a[k] <= b[k] for k in keys) and any(a[k] < b[k] for k in keys)


def pareto_front(objectives: Mapping[str, Mapping], keys: Sequence[str]) -> list[str]:
    """Ids of the non-dominated candidates, sorted by id."""
    ids = sorted(objectives)
    return [i for i in ids if not any(dominates(objectives[j], objectives[i], keys) for j in ids if j != i)]


def recommendation_order(objectives: Mapping[str, Mapping], front: Sequence[str], within: float) -> list[str]:
    if not front:
        return []
    fastest = min(objectives[i]["comm_time_s"] for i in front)

    def key(i: str) -> tuple:
        o = objectives[i]
        return (o["comm_time_s"] > fastest * (1 + within), o["network_cost_usd"], o["total_power_kw"], i)
    return sorted(front, key=key)


def recommendation_reason(objectives: Mapping[str, Mapping], front: Sequence[str], chosen: str,
                          within: float) -> str:
    fastest_id = min(front, key=lambda i: (objectives[i]["comm_time_s"], i))
    fastest = objectives[fastest_id]["comm_time_s"]
    o = objectives[chosen]
    if o["comm_time_s"] <= fastest * (1 + within):
        return (f"cheapest network ({o['network_cost_usd'] / 1e6:,.1f} MUSD, {o['total_power_kw']:,.0f} kW) among "
                f"the front's designs within {within:.0%} of the fastest communication time "
                f"({fastest * 1e3:.3f} ms, {fastest_id}), at {o['comm_time_s'] * 1e3:.3f} ms")
    return (f"cheapest placeable design of the front ({o['network_cost_usd'] / 1e6:,.1f} MUSD) at "
            f"{o['comm_time_s'] * 1e3:.3f} ms: none within {within:.0%} of the fastest "
            f"({fastest * 1e3:.3f} ms) could be placed")
