"""Tests for the filtering/convolution figures appended to cnncourse.plot."""

from __future__ import annotations

import numpy as np
import pytest

from cnncourse import filters, plot


def _outlines(ax):
    """(x, y, width, height) of the unfilled rectangles drawn on ``ax``."""
    return [
        (p.get_x(), p.get_y(), p.get_width(), p.get_height())
        for p in ax.patches
        if not p.get_fill()
    ]


def test_sliding_window_outlines_the_window_that_makes_the_output_cell():
    image = filters.example_image()
    fig = plot.show_sliding_window(image, filters.mean_kernel(3), positions=[(3, 3)],
                                   fmt="{:.0f}")
    ax_in, ax_k, ax_out = fig.axes
    # window rows/cols 3..5 of the input, cell (3, 3) of the output
    assert _outlines(ax_in) == [(2.5, 2.5, 3, 3)]
    assert _outlines(ax_out) == [(2.5, 2.5, 1, 1)]
    assert ax_out.get_title() == "G (8x8): G[3,3] = 80"
    assert len(ax_in.texts) == 100 and len(ax_out.texts) == 64


def test_sliding_window_with_stride_and_padding_moves_by_the_stride():
    fig = plot.show_sliding_window(np.arange(25.0).reshape(5, 5), np.ones((3, 3)),
                                   stride=2, padding=1, positions=[(0, 0), (1, 2)])
    assert len(fig.axes) == 6
    second_input = fig.axes[3]
    assert _outlines(second_input) == [(3.5, 1.5, 3, 3)]  # column 2*2, row 1*2
    assert second_input.get_title() == "F con padding 1 (7x7)"
    # 7x7 padded grid: 24 hatched border cells
    assert sum(1 for p in second_input.patches if p.get_fill()) == 24
    # G[1, 2] = 8 + 9 + 13 + 14 + 18 + 19 (+ three zeros of padding)
    assert fig.axes[5].get_title() == "G (3x3): G[1,2] = 81"


def test_sliding_window_rejects_positions_outside_the_output():
    with pytest.raises(ValueError, match=r"position \(5, 0\) is outside the output"):
        plot.show_sliding_window(np.ones((6, 6)), np.ones((3, 3)), positions=[(5, 0)])
    with pytest.raises(ValueError, match="must be 2-D"):
        plot.show_sliding_window(np.ones((2, 6, 6)), np.ones((3, 3)))


@pytest.mark.parametrize("size, kernel, stride, padding, out", [
    (7, 3, 1, 0, 5), (7, 3, 2, 0, 3), (7, 3, 2, 1, 4), (6, 3, 1, 0, 4),
])
def test_stride_positions_marks_one_dot_per_output_cell(size, kernel, stride, padding, out):
    fig = plot.show_stride_positions(size, kernel, stride=stride, padding=padding)
    ax = fig.axes[0]
    (dots,) = ax.lines
    assert len(dots.get_xdata()) == out * out
    assert ax.get_title().endswith(f"→ {out}x{out}")
    # the last centre is (out - 1) * stride + (kernel - 1) / 2 in the padded grid
    assert max(dots.get_xdata()) == (out - 1) * stride + (kernel - 1) / 2


def test_filter_result_titles_give_the_shapes():
    fig = plot.show_filter_result(np.ones((20, 30)), filters.sobel_kernel("x"),
                                  padding="same", name="Sobel x")
    assert [ax.get_title() for ax in fig.axes] == [
        "entrada 20x30", "Sobel x", "salida 20x30"
    ]


def test_explorer_kernels_are_named_in_spanish_and_valid():
    kernels = plot.explorer_kernels()
    assert "media 3x3" in kernels and "realce" in kernels
    assert all(k.ndim == 2 and k.shape[0] % 2 == 1 for k in kernels.values())


def test_filter_explorer_builds_without_waiting_for_input():
    pytest.importorskip("ipywidgets")
    image = np.random.default_rng(0).random((16, 16))
    explorer = plot.filter_explorer(image)
    menu, padding, stride, picture, message = explorer.children
    assert [menu.description, padding.description, stride.description] == [
        "filtro", "padding", "stride"
    ]
    first = bytes(picture.value)
    assert first.startswith(b"\x89PNG") and message.value == ""
    # every change redraws, without waiting for anything
    menu.value = "media 7x7"
    stride.value = 4
    assert bytes(picture.value).startswith(b"\x89PNG") and bytes(picture.value) != first


def test_filter_explorer_explains_impossible_combinations():
    pytest.importorskip("ipywidgets")
    explorer = plot.filter_explorer(np.ones((5, 5)))
    menu, padding, _, _, message = explorer.children
    menu.value = "media 7x7"
    padding.value = 0
    assert message.value.startswith("No se puede aplicar") and "kernel=7" in message.value
    padding.value = 1
    assert message.value == ""
    with pytest.raises(ValueError, match="at least one kernel"):
        plot.filter_explorer(np.ones((5, 5)), kernels={})
    with pytest.raises(ValueError, match="2-D grey image"):
        plot.filter_explorer(np.ones((3, 5, 5)))
