"""Where a report may be placed in public: the one rule behind every public page, API and export
(docs/transparency.md, "Where a report is placed in public").

A report is published at the finest of its stored H3 cells (res 9 to 6) whose cell x comuna group holds at least k
reports that no finer cell could place, or nowhere. `services.report_public_cells_refresh` applies the rule and
stores the result in `Report.public_cell`, which Open311, the GeoJSON API, the public map and the open data read.
"""

import functools
from collections import Counter

from h3.api import basic_int as h3i

# Finest first: H3 res 9 (about 0.1 km²) up to res 6 (about 36 km²).
PLACE_RESOLUTIONS = (9, 8, 7, 6)
# What a report's place is decided by: its comuna (published beside the cell) and its stored cells.
GROUP_COLUMNS = ("commune_id", *(f"h3_res{res}" for res in PLACE_RESOLUTIONS))


def published_cells(groups: dict[tuple, int], k: int) -> dict[tuple, int | None]:
    """The published cell of each group (commune, res-9, res-8, res-7 and res-6 cell -> its number of reports).

    At each resolution the groups still unplaced are counted per (comuna, cell); a (comuna, cell) with at least k
    of them places them all, the rest move up to the next resolution, and what res 6 cannot place has no place
    (None). Counting only the leftovers means no published cell minus its finer published cells leaves fewer
    than k reports; counting per comuna means the comuna column never splits a place into fewer than k."""
    pending = dict(groups)
    published: dict[tuple, int | None] = {}
    for level in range(1, len(GROUP_COLUMNS)):
        counts: Counter = Counter()
        for group, n in pending.items():
            counts[group[0], group[level]] += n
        placed = {group for group in pending if counts[group[0], group[level]] >= k}
        published.update({group: group[level] for group in placed})
        pending = {group: n for group, n in pending.items() if group not in placed}
    published.update(dict.fromkeys(pending))
    return published


def shown_point(
    public_visibility: bool, lat: float | None, lng: float | None, public_cell: int | None
) -> tuple[float, float] | None:
    """(lat, lng) a public output shows: the exact point when the citizen allowed it, else the centre of the
    report's published cell, or None (no place: also a request filed without one, whose lat is None)."""
    if lat is None:
        return None
    if public_visibility:
        return lat, lng
    return cell_place(public_cell)[0]


def location_precision(public_visibility: bool, public_cell: int | None, has_place: bool = True) -> str:
    """How precise the shown point is: "exact", "h3-resN-centre" or "none" (also for a request without a place)."""
    if not has_place:
        return "none"
    if public_visibility:
        return "exact"
    return cell_place(public_cell)[1]


@functools.lru_cache(maxsize=4096)
def cell_place(public_cell: int | None) -> tuple[tuple[float, float] | None, str]:
    """Where a placed report that is not public is shown: its published cell's centre (lat, lng) and precision
    ("h3-resN-centre"), or (None, "none") without a cell. Cached: a page of reports shares a few cells."""
    if public_cell is None:
        return None, "none"
    return h3i.cell_to_latlng(public_cell), f"h3-res{h3i.get_resolution(public_cell)}-centre"
