"""Horizontal bar charts drawn as server-side SVG: no JavaScript, readable by screen readers through the
table each chart sits next to."""

from dataclasses import dataclass

BAR_HEIGHT = 22
LABEL_WIDTH = 300
PLOT_WIDTH = 320


@dataclass
class Bar:
    label: str
    value: float
    text: str
    y: int
    width: float

    @property
    def text_x(self) -> float:
        return LABEL_WIDTH + self.width + 6


def bar_chart(items: list[tuple[str, float | None, str]], *, maximum: float | None = None) -> dict:
    """items: (label, value, value as shown). Bars scale to `maximum` (default the largest value)."""
    shown = [(label, value, text) for label, value, text in items if value is not None]
    top = maximum or max((value for _label, value, _text in shown), default=0) or 1
    bars = [Bar(label, value, text, y=i * (BAR_HEIGHT + 6), width=PLOT_WIDTH * value / top)
            for i, (label, value, text) in enumerate(shown)]
    return {"bars": bars, "height": max(len(bars), 1) * (BAR_HEIGHT + 6), "label_width": LABEL_WIDTH,
            "plot_width": PLOT_WIDTH, "bar_height": BAR_HEIGHT, "width": LABEL_WIDTH + PLOT_WIDTH + 70}
