"""Chart geometry (vaulta/charts.py): bars and lines inside the plot, scaled to round
axis tops, with labels thinned to fit."""

from __future__ import annotations

import pytest

from vaulta import charts
from vaulta.charts import HEIGHT, Series


def test_stacked_bars_add_up_and_stay_in_the_plot() -> None:
    chart = charts.bars(
        "t",
        ["a", "b", "c"],
        [Series("x", [1, 0, 3], "series-0"), Series("y", [2, 5, 0], "series-1")],
        stacked=True,
        whole=True,
    )
    assert len(chart.rects) == 4  # zero values draw nothing
    bottom = HEIGHT - charts.BOTTOM
    for rect in chart.rects:
        assert rect.y >= charts.TOP
        assert rect.y + rect.height <= bottom + 0.2
    assert [t.text for t in chart.y_labels] == ["0", "2", "4", "6", "8"]
    a_x, a_y = (
        next(r for r in chart.rects if r.title.startswith("a: x")),
        next(r for r in chart.rects if r.title.startswith("a: y")),
    )
    assert a_x.x == a_y.x  # one column
    assert abs(a_y.y + a_y.height - a_x.y) < 0.2  # stacked on top
    assert chart.legend == [("series-0", "x"), ("series-1", "y")]


def test_grouped_bars_side_by_side() -> None:
    chart = charts.bars(
        "t", ["m"], [Series("in", [10], "series-2"), Series("out", [4], "series-4")], stacked=False
    )
    first, second = chart.rects
    assert second.x >= first.x + first.width
    assert first.height > second.height


def test_lines_and_thinned_labels() -> None:
    days = [f"d{i}" for i in range(90)]
    chart = charts.lines("t", days, [Series("balance", list(range(90)), "series-0")])
    (line,) = chart.lines
    assert len(line.points.split()) == 90
    assert len(chart.x_labels) <= charts.MAX_X_LABELS
    assert chart.x_labels[0].text == "d0"


@pytest.mark.parametrize(
    ("high", "top"),
    [(0, 1), (0.4, 1), (7, 10), (10, 10), (11, 20), (2_400, 2_500), (99_001, 100_000)],
)
def test_axis_tops_are_round(high: float, top: float) -> None:
    assert charts.nice_top(high) == top


def test_horizontal_bars_scale_to_the_largest() -> None:
    chart = charts.hbars("t", [("a", 50, "50"), ("b", 100, "100"), ("c", 0, "0")])
    widths = [r.width for r in chart.rects]
    assert widths[1] == 2 * widths[0]
    assert widths[2] == 1  # a zero still shows as a hairline
    assert [t.text for t in chart.y_labels][:2] == ["a", "50"]
