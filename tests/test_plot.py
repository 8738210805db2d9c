"""cnncourse.plot: training-history figures write numbers the book's way."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from cnncourse.plot import plot_history  # noqa: E402


def test_plot_history_ticks_use_decimal_comma_and_percent():
    h = {"epoch": [1, 2], "train_loss": [1.25, 0.5], "val_loss": [1.1, 0.7],
         "train_acc": [0.4, 0.8], "val_acc": [0.3, 0.6]}
    fig = plot_history(h, chance=0.25)
    fig.canvas.draw()
    loss, acc = fig.axes
    loss_labels = [t.get_text() for t in loss.get_yticklabels()]
    acc_labels = [t.get_text() for t in acc.get_yticklabels()]
    assert any("," in t for t in loss_labels) and not any("." in t for t in loss_labels)
    assert all(t.endswith("%") for t in acc_labels if t)
    assert any(t.startswith("100") for t in acc_labels)
    assert not any("." in t for t in acc_labels)
    plt.close(fig)


def test_plot_history_regression_ticks_use_decimal_comma():
    h = {"epoch": [1, 2, 3], "train_loss": [2.5, 1.5, 0.75], "train_mae": [1.5, 1.25, 0.5]}
    fig = plot_history(h)
    fig.canvas.draw()
    labels = [t.get_text() for ax in fig.axes for t in ax.get_yticklabels()]
    assert any("," in t for t in labels) and not any("." in t for t in labels)
    plt.close(fig)
