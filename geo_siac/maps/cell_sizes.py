"""The published size of the H3 cells of each resolution: every page that explains the cells says it from here.

The measure is the hexagon's edge length (its side), rounded, as the cells measure in Santiago: H3's cells are not
all alike, and near latitude -33.5 they are about 7% smaller than h3.average_hexagon_edge_length's world average
(test_cell_sizes checks these figures against the cells of the served comunas)."""

from django.utils.formats import number_format

CELL_EDGE_METRES = {6: 3500, 7: 1300, 8: 500, 9: 190, 10: 70}


def cell_edge(res: int) -> str:
    """The side of a resolution's cell as a page prints it: "190 m", "1,3 km" (in the request's language)."""
    metres = CELL_EDGE_METRES[res]
    if metres < 1000:
        return f"{metres} m"
    return f"{number_format(metres / 1000, 1, use_l10n=True)} km"


def cell_edges() -> dict[str, str]:
    """`cell_edge` of every resolution, keyed "r6" to "r10" for a template."""
    return {f"r{res}": cell_edge(res) for res in CELL_EDGE_METRES}
