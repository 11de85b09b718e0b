"""Horizontal bar charts drawn as server-side SVG: no JavaScript, readable by screen readers through the
table each chart sits next to.

Each label sits on its own lines above its bar, wrapped and never cut: beside the bar, a 300-unit label column
left a phone 40 characters at 7 px, so long category and department names were truncated. The SVG has no viewBox:
its text is drawn at FONT_SIZE CSS pixels whatever the screen's width (scaled into a 480-unit viewBox, it was 9.7 px
on a 390-pixel phone), and the bars' lengths are percentages of the chart's width."""

import textwrap
from dataclasses import dataclass

FONT_SIZE = 14
BAR_HEIGHT = 22
LINE_HEIGHT = 18
GAP = 12
PLOT_PERCENT = 80  # the longest bar leaves a fifth of the width (57 px on a 320-pixel phone) for its value
# At 14 px a character of the page's sans-serif is at most ~8 px wide, so a line of 36 fits the 288 px a 320-pixel
# phone leaves the chart (main's padding is 1rem each side).
LINE_CHARS = 36
NARROWEST_CHART_PX = 288


@dataclass
class Bar:
    lines: list[str]
    value: float | None  # None: no bar, only the label and its text (a group without the figure)
    text: str
    y: int
    percent: float

    @property
    def bar_y(self) -> int:
        return len(self.lines) * LINE_HEIGHT + 4

    @property
    def text_y(self) -> int:
        return self.bar_y + BAR_HEIGHT - 6


def bar_chart(items: list[tuple[str, float | None, str]], *, maximum: float | None = None) -> dict:
    """items: (label, value, value as shown). Bars scale to `maximum` (default the largest value). An item without a
    value is drawn as its label and text, without a bar, when it has a text, and left out when it has none."""
    shown = [(label, value, text) for label, value, text in items if value is not None or text]
    top = maximum or max((value for _label, value, _text in shown if value is not None), default=0) or 1
    bars, y = [], 0
    for label, value, text in shown:
        percent = 0 if value is None else PLOT_PERCENT * value / top
        bar = Bar(textwrap.wrap(label, LINE_CHARS) or [""], value, text, y=y, percent=percent)
        bars.append(bar)
        y += bar.bar_y + BAR_HEIGHT + GAP
    return {
        "bars": bars,
        "height": max(y, LINE_HEIGHT + BAR_HEIGHT),
        "font_size": FONT_SIZE,
        "bar_height": BAR_HEIGHT,
        "line_height": LINE_HEIGHT,
    }
