"""Reading order of found lines (recursive XY cut), on hand-laid boxes."""

from __future__ import annotations

from htrkit.segmenters.order import reading_order


def rows(x0, x1, ys, h=20):
    return [(x0, y, x1, y + h) for y in ys]


def test_one_column_reads_top_to_bottom_even_when_boxes_touch():
    boxes = rows(50, 900, [300, 100, 200, 118, 400])  # 100 and 118 overlap
    assert reading_order(boxes) == [1, 3, 2, 0, 4]


def test_two_columns_read_left_then_right_though_their_rows_line_up():
    left, right = rows(50, 450, [100, 140, 180]), rows(550, 950, [100, 140, 180])
    boxes = [right[0], left[0], right[1], left[1], right[2], left[2]]
    assert reading_order(boxes) == [1, 3, 5, 0, 2, 4]


def test_a_heading_over_two_columns_and_a_footer_under_them():
    boxes = [(50, 20, 950, 50)] + rows(50, 450, [100, 140]) + rows(550, 950, [100, 140])
    boxes.append((50, 300, 950, 330))
    assert reading_order(boxes) == [0, 1, 2, 3, 4, 5]


def test_two_lines_side_by_side_in_one_row_read_left_first():
    boxes = rows(50, 900, [100, 140]) + [(600, 200, 900, 220), (50, 200, 300, 220)]
    assert reading_order(boxes) == [0, 1, 3, 2]


def test_nothing_and_one():
    assert reading_order([]) == []
    assert reading_order([(0, 0, 10, 10)]) == [0]


def test_an_indented_line_above_a_short_one_is_read_first():
    """Above and to the right, then below and to the left: no column between them."""
    boxes = [(50, 300, 300, 320), (400, 260, 900, 285)]
    assert reading_order(boxes) == [1, 0]
