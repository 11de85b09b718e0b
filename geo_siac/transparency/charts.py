"""Horizontal bar charts drawn as server-side SVG: no JavaScript, readable by screen readers through the
table each chart sits next to.

Each label sits on its own lines above its bar, wrapped and never cut: beside the bar, a 300-unit label column
left a phone 40 characters at 7 px, so long category and department names were truncated."""

import textwrap
from dataclasses import dataclass

BAR_HEIGHT = 22
LINE_HEIGHT = 16
GAP = 10
WIDTH = 480
PLOT_WIDTH = 400  # leaves room after the longest bar for its value
# At font-size 13 a character is at most ~7.5 units wide, so a line of 60 fits the chart's width.
LINE_CHARS = 60


@dataclass
class Bar:
    lines: list[str]
    value: float
    text: str
    y: int
    width: float

    @property
    def bar_y(self) -> int:
        return len(self.lines) * LINE_HEIGHT + 2

    @property
    def text_x(self) -> float:
        return self.width + 6


def bar_chart(items: list[tuple[str, float | None, str]], *, maximum: float | None = None) -> dict:
    """items: (label, value, value as shown). Bars scale to `maximum` (default the largest value)."""
    shown = [(label, value, text) for label, value, text in items if value is not None]
    top = maximum or max((value for _label, value, _text in shown), default=0) or 1
    bars, y = [], 0
    for label, value, text in shown:
        bar = Bar(textwrap.wrap(label, LINE_CHARS) or [""], value, text, y=y, width=PLOT_WIDTH * value / top)
        bars.append(bar)
        y += bar.bar_y + BAR_HEIGHT + GAP
    return {
        "bars": bars,
        "height": max(y, LINE_HEIGHT + BAR_HEIGHT),
        "width": WIDTH,
        "bar_height": BAR_HEIGHT,
        "line_height": LINE_HEIGHT,
    }
