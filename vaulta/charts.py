"""Charts as server-side SVG: the geometry is computed here, ``templates/_charts.html``
draws it (autoescaped, no script, no inline style: the page's CSP stays as it is).

A chart is plain data (rectangles, polylines, axis labels in viewBox units); colours come
from CSS classes in ``static/app.css``. Every chart on a page comes with a table of the same
figures (the accessible alternative), which the templates render next to it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 76, 12, 14, 34
MAX_X_LABELS = 10


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[int | float]
    css: str  # a class of static/app.css: its colour


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str  # the figure, shown on hover


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str
    anchor: str = "middle"


@dataclass(frozen=True)
class Polyline:
    points: str
    css: str
    title: str


@dataclass(frozen=True)
class Chart:
    title: str
    width: int = WIDTH
    height: int = HEIGHT
    rects: list[Rect] = field(default_factory=list)
    lines: list[Polyline] = field(default_factory=list)
    x_labels: list[Text] = field(default_factory=list)
    y_labels: list[Text] = field(default_factory=list)
    grid: list[float] = field(default_factory=list)  # y of each horizontal grid line
    legend: list[tuple[str, str]] = field(default_factory=list)  # (css, name)
    plot_left: int = LEFT
    plot_right: int = WIDTH - RIGHT


def nice_top(value: float) -> float:
    """A round number at or above ``value`` for the top of an axis."""
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover - the loop ends at 10 x magnitude


def _scale(
    low: float, high: float, fmt: Callable[[float], str], *, whole: bool = False
) -> tuple[Callable[[float], float], list[Text], list[float]]:
    """A y mapping from ``[low, high]`` (rounded outwards) to the plot, with 4 ticks;
    ``whole``: counts, so every tick is a whole number."""
    top = 4 * nice_top(max(1, -(-high // 4))) if whole else nice_top(high)
    bottom = -nice_top(-low) if low < 0 else 0.0
    span = top - bottom
    plot_height = HEIGHT - TOP - BOTTOM

    def y(value: float) -> float:
        return round(TOP + plot_height * (top - value) / span, 1)

    ticks = [bottom + span * n / 4 for n in range(5)]
    labels = [Text(LEFT - 6, y(t) + 4, fmt(t), "end") for t in ticks]
    return y, labels, [y(t) for t in ticks]


def _x_labels(categories: Sequence[str], centre: Callable[[int], float]) -> list[Text]:
    every = max(1, -(-len(categories) // MAX_X_LABELS))
    return [
        Text(centre(i), HEIGHT - BOTTOM + 16, label)
        for i, label in enumerate(categories)
        if i % every == 0
    ]


def bars(
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    stacked: bool,
    fmt: Callable[[float], str] = lambda v: f"{v:,.0f}",
    whole: bool = False,
) -> Chart:
    """Vertical bars per category: stacked, or side by side (grouped); ``whole`` for
    counts (whole-number ticks)."""
    count = max(1, len(categories))
    if stacked:
        high = max((sum(s.values[i] for s in series) for i in range(len(categories))), default=0)
    else:
        high = max((v for s in series for v in s.values), default=0)
    y, y_labels, grid = _scale(0, high, fmt, whole=whole)
    slot = (WIDTH - LEFT - RIGHT) / count
    width = slot * 0.8 if stacked else slot * 0.8 / max(1, len(series))
    rects = []
    for i, category in enumerate(categories):
        base = 0.0
        for k, s in enumerate(series):
            value = s.values[i]
            if not value:
                continue
            x = LEFT + slot * i + slot * 0.1 + (0 if stacked else k * width)
            low, high_value = (base, base + value) if stacked else (0, value)
            top = y(high_value)
            rects.append(
                Rect(
                    round(x, 1),
                    top,
                    round(width, 1),
                    round(y(low) - top, 1),
                    s.css,
                    f"{category}: {s.name} {fmt(value)}",
                )
            )
            base += value if stacked else 0
    return Chart(
        title,
        rects=rects,
        x_labels=_x_labels(categories, lambda i: round(LEFT + slot * (i + 0.5), 1)),
        y_labels=y_labels,
        grid=grid,
        legend=[(s.css, s.name) for s in series],
    )


def lines(
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    fmt: Callable[[float], str] = lambda v: f"{v:,.0f}",
) -> Chart:
    """One polyline per series over the categories (days, weeks)."""
    values = [v for s in series for v in s.values]
    y, y_labels, grid = _scale(min(values, default=0), max(values, default=0), fmt)
    step = (WIDTH - LEFT - RIGHT) / max(1, len(categories) - 1)

    def x(i: int) -> float:
        return round(LEFT + step * i, 1)

    polylines = [
        Polyline(
            " ".join(f"{x(i)},{y(v)}" for i, v in enumerate(s.values)),
            s.css,
            f"{s.name}: {fmt(s.values[0])} to {fmt(s.values[-1])}" if s.values else s.name,
        )
        for s in series
    ]
    return Chart(
        title,
        lines=polylines,
        x_labels=_x_labels(categories, x),
        y_labels=y_labels,
        grid=grid,
        legend=[(s.css, s.name) for s in series],
    )


def hbars(
    title: str,
    items: Sequence[tuple[str, float, str]],
    *,
    css: str = "series-0",
    label_width: int = 150,
) -> Chart:
    """Horizontal bars, one per (label, value, shown value); scaled to the largest."""
    row = 26
    height = TOP + row * max(1, len(items)) + 6
    high = max((v for _l, v, _t in items), default=0) or 1
    room = WIDTH - label_width - RIGHT - 110
    rects, labels = [], []
    for i, (label, value, shown) in enumerate(items):
        top = TOP + row * i
        width = round(room * max(0, value) / high, 1)
        rects.append(Rect(label_width, top, max(width, 1), row - 8, css, f"{label}: {shown}"))
        labels.append(Text(label_width - 6, top + row / 2, label, "end"))
        labels.append(Text(label_width + width + 6, top + row / 2, shown, "start"))
    return Chart(title, height=height, rects=rects, y_labels=labels, plot_left=label_width)
