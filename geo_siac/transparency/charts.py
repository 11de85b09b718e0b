"""Horizontal bar charts drawn as server-side SVG: no JavaScript, readable by screen readers through the
table each chart sits next to.

Each label sits on its own lines above its bar, wrapped and never cut: beside the bar, a 300-unit label column
left a phone 40 characters at 7 px, so long category and department names were truncated. The SVG has no viewBox:
its text is drawn at FONT_SIZE CSS pixels whatever the screen's width (scaled into a 480-unit viewBox, it was 9.7 px
on a 390-pixel phone), and the bars' lengths are percentages of the chart's width."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

FONT_SIZE = 14
BAR_HEIGHT = 22
LINE_HEIGHT = 18
GAP = 12
PLOT_PERCENT = 80  # the longest bar leaves a fifth of the width (57 px on a 320-pixel phone) for its value
NARROWEST_CHART_PX = 288  # a 320-pixel phone less main's padding (1rem each side)
# A character's width in em, from DejaVu Sans (Chromium's sans-serif on Linux, wider than Arial or Segoe UI): a
# capital is up to 0.99 em (W, 14 px at 14 px) and a lowercase letter about 0.6, so a count of characters cannot
# say what fits; a line is wrapped when the sum of its widths would pass the narrowest chart's.
WIDE, CAPITAL, NARROW, OTHER = 1.0, 0.8, 0.42, 0.65
LINE_EMS = NARROWEST_CHART_PX / FONT_SIZE


def text_width(text: str) -> float:
    """An upper bound of `text`'s width in em in DejaVu Sans, for Spanish text (the widths above)."""
    return sum(
        WIDE if c in "MWmw%@—" else CAPITAL if c.isupper() else NARROW if c in " .,:;'!|()-/iljtfr" else OTHER
        for c in text
    )


def wrap(text: str) -> list[str]:
    """`text` on lines of at most LINE_EMS, broken between words (a word wider than a line has one of its own)."""
    lines: list[str] = []
    for word in text.split():
        if lines and text_width(f"{lines[-1]} {word}") <= LINE_EMS:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return lines or [""]


@dataclass
class Bar:
    lines: list[str]
    value: float | None  # None: no bar, only the label and its text (a group without the figure)
    text_lines: list[str]  # the value as shown: a figure beside the bar, or words wrapped as a label is
    y: int
    percent: float
    partial: bool = False  # a group of fewer days than the others' (the month in progress): hatched

    @property
    def bar_y(self) -> int:
        return len(self.lines) * LINE_HEIGHT + 4

    @property
    def text_y(self) -> int:
        return self.bar_y + BAR_HEIGHT - 6

    @property
    def height(self) -> int:
        return self.bar_y + BAR_HEIGHT + (len(self.text_lines) - 1) * LINE_HEIGHT


def bar_chart(
    items: list[tuple[str, float | None, str]], *, maximum: float | None = None, partial: frozenset = frozenset()
) -> dict:
    """items: (label, value, value as shown). Bars scale to `maximum` (default the largest value). An item without a
    value is drawn as its label and text, without a bar. The bars of the labels in `partial` are hatched."""
    top = maximum or max((value for _label, value, _text in items if value is not None), default=0) or 1
    bars, y = [], 0
    for label, value, text in items:
        percent = 0 if value is None else PLOT_PERCENT * value / top
        bar = Bar(wrap(label), value, wrap(text), y=y, percent=percent, partial=label in partial)
        bars.append(bar)
        y += bar.height + GAP
    return {
        "bars": bars,
        # Named in the legend, which the chart's aria-describedby points to: a screen reader hears only the title.
        "partial_labels": [label for label, value, _text in items if label in partial and value is not None],
        "height": max(y, LINE_HEIGHT + BAR_HEIGHT),
        "font_size": FONT_SIZE,
        "bar_height": BAR_HEIGHT,
        "line_height": LINE_HEIGHT,
    }


def indicator_chart(groups: Iterable[tuple[str, dict]], figure: Callable[[dict], tuple[float | None, str]], **options):
    """A bar per group of public_indicators' rows, (label, row), its value and text `figure(row)`. A withheld group
    (every figure None) has no line: it has no figure to draw (the note under the tables says why)."""
    return bar_chart([(label, *figure(row)) for label, row in groups if row["volume"] is not None], **options)
