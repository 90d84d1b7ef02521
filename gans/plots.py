"""Figures saved to a run folder: sample grids, loss curves with the ideal line, the pattern GAN's history,
image-to-image results side by side, and samples beside their nearest training faces.

All functions draw with matplotlib's non-interactive Agg backend and write a PNG;
none of them shows a window.
"""

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def to_images(samples, image_shape, pixel_range=(0.0, 1.0)):
    """Generator outputs -> a float array (N, H, W) or (N, H, W, 3) in [0, 1] for display.

    samples: (N, ...) array or Tensor; image_shape: (H, W), (H, W, 3) or (3, H, W).
    """
    array = np.asarray(samples, dtype=np.float32)
    low, high = pixel_range
    array = (array - low) / (high - low)
    if len(image_shape) == 3 and image_shape[0] == 3:  # channels first -> channels last
        array = array.reshape(-1, *image_shape).transpose(0, 2, 3, 1)
    else:
        array = array.reshape(-1, *image_shape)
    return np.clip(array, 0.0, 1.0)


def tile(images, columns):
    """(N, H, W[, 3]) -> one (rows*H, columns*W[, 3]) array, with 1-pixel white gaps."""
    n, h, w = images.shape[:3]
    rows = math.ceil(n / columns)
    shape = (rows * (h + 1) - 1, columns * (w + 1) - 1) + images.shape[3:]
    sheet = np.ones(shape, dtype=images.dtype)
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        sheet[r * (h + 1):r * (h + 1) + h, c * (w + 1):c * (w + 1) + w] = image
    return sheet


def save_grid(samples, path, image_shape, pixel_range=(0.0, 1.0), columns=None, title=None, row_labels=None):
    """Save a grid of samples as a PNG. `row_labels` (one per row) label the rows (e.g. digits 0-9)."""
    images = to_images(samples, image_shape, pixel_range)
    columns = columns or math.ceil(math.sqrt(len(images)))
    sheet = tile(images, columns)
    height, width = sheet.shape[:2]
    scale = max(1, 600 // max(width, height))  # small images (MNIST) are enlarged, faces drawn 1:1
    left, top = (0.4 if row_labels is not None else 0.1), (0.35 if title else 0.1)  # inches
    size = (width * scale / 100 + left + 0.1, height * scale / 100 + top + 0.1)
    figure = plt.figure(figsize=size)
    axes = figure.add_axes([left / size[0], 0.1 / size[1], width * scale / 100 / size[0], height * scale / 100 / size[1]])
    axes.imshow(sheet, cmap="gray" if sheet.ndim == 2 else None, vmin=0, vmax=1, interpolation="nearest")
    axes.set_xticks([])
    if row_labels is not None:
        h = images.shape[1] + 1
        axes.set_yticks([r * h + h / 2 for r in range(len(row_labels))])
        axes.set_yticklabels([str(label) for label in row_labels])
    else:
        axes.set_yticks([])
    if title:
        axes.set_title(title, fontsize=9)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


LABELS = {"d_loss_real": "D loss on real", "d_loss_fake": "D loss on fake", "g_loss": "G loss",
          "critic_loss": "critic loss", "wasserstein": "Wasserstein estimate", "penalty": "gradient penalty",
          "m_global": "M_global (convergence)", "k": "k (BEGAN's balance)"}
COLOURS = {"d_loss_real": "tab:blue", "d_loss_fake": "tab:cyan", "g_loss": "tab:orange",
           "critic_loss": "tab:blue", "wasserstein": "tab:green", "penalty": "tab:purple", "m_global": "black",
           "k": "tab:green"}


def save_loss_plot(history, path, ideal=None, ideal_label=None, title=None,
                   columns=("d_loss_real", "d_loss_fake", "g_loss")):
    """The `columns` of a history against training step, with the equilibrium loss (`ideal`, if
    any) as a dashed line.

    history: dict of equal-length sequences with the key "step" and each of `columns`.
    The classic D and G losses are drawn from 0 (to at least twice the ideal); other columns,
    such as a critic's, on the range of their values.
    """
    figure, axes = plt.subplots(figsize=(9, 4.5))
    steps = np.asarray(history["step"])
    drawn = [c for c in columns if c in history and len(history[c])]
    for key in drawn:
        axes.plot(steps, history[key], label=LABELS.get(key, key), color=COLOURS.get(key), linewidth=1,
                  alpha=0.85)
    if ideal is not None:
        axes.axhline(ideal, color="black", linestyle="--", linewidth=1, label=ideal_label)
    axes.set_xlabel("training step")
    axes.set_ylabel("loss")
    values = np.concatenate([np.asarray(history[k], float) for k in drawn] or [[1.0]])
    if "d_loss_real" in drawn:
        # the classic plot's range: the D-on-real loss and G's loss set the top
        top = np.nanpercentile(np.concatenate([np.asarray(history[k], float) for k in ("d_loss_real", "g_loss")
                                               if k in drawn]), 99)
        axes.set_ylim(0, max(2 * (ideal or 0), top * 1.1))
    else:
        low, high = np.nanpercentile(values, [1, 99])
        low, margin = min(low, 0.0), 0.1 * (high - min(low, 0.0)) or 1.0
        axes.set_ylim(low - margin, high + margin)
    axes.grid(alpha=0.3)
    axes.legend(loc="upper right", fontsize=8)
    if title:
        axes.set_title(title)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def save_frechet_plot(panels, path):
    """One panel per run: a training statistic (left axis) and the Fréchet distance measured during
    the run (right axis, log scale), with their rank correlation in the title.

    panels: [{"title", "steps", "values", "label", "frechet_steps", "frechet", "rho", "rho_late"}]
    (rho_late: over the last three quarters of the checks; optional).
    """
    figure, axes = plt.subplots(len(panels), 1, figsize=(9, 3.2 * len(panels)), squeeze=False)
    for ax, panel in zip(axes[:, 0], panels):
        ax.plot(panel["steps"], panel["values"], color="tab:blue", linewidth=1, alpha=0.8, label=panel["label"])
        ax.set_ylabel(panel["label"], color="tab:blue")
        ax.grid(alpha=0.3)
        right = ax.twinx()
        right.plot(panel["frechet_steps"], panel["frechet"], "o-", color="tab:red", markersize=3, linewidth=1)
        right.set_yscale("log")
        right.set_ylabel("Fréchet distance", color="tab:red")
        title = f"{panel['title']}: Spearman ρ({panel['label']}, FD) = {_signed(panel['rho'])}"
        if "rho_late" in panel:
            title += f", over the last ¾ of the checks {_signed(panel['rho_late'])}"
            late_from = panel["frechet_steps"][len(panel["frechet_steps"]) // 4]
            ax.axvspan(0, late_from, color="grey", alpha=0.12, linewidth=0)
        ax.set_title(title, fontsize=10)
    axes[-1, 0].set_xlabel("training step")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def _signed(value):
    return "n/a" if value is None else f"{value:+.2f}"


def save_pattern_history(steps, outputs, path, title="G(0.5) during training"):
    """The book's figure for the 1010 pattern GAN: each column is G's 4 outputs at one moment."""
    outputs = np.asarray(outputs)
    figure, axes = plt.subplots(figsize=(max(4, len(steps) * 0.5), 3))
    image = axes.imshow(outputs.T, cmap="Blues", vmin=0, vmax=1, interpolation="none", aspect="auto")
    axes.set_xticks(range(len(steps)))
    axes.set_xticklabels([str(s) for s in steps], rotation=90, fontsize=7)
    axes.set_yticks(range(outputs.shape[1]))
    axes.set_xlabel("training step")
    axes.set_ylabel("output")
    axes.set_title(title)
    figure.colorbar(image, ax=axes)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def save_progress_plot(histories, path):
    """One panel per run: its loss every few steps, drawn as the book's plot_progress draws it
    (faint dots, y from 0 to 1), so that both the spread and the trend show.

    histories: {name: {"step": [...], "loss": [...]}}.
    """
    figure, axes = plt.subplots(len(histories), 1, figsize=(10, 2.2 * len(histories)), squeeze=False)
    for ax, (name, history) in zip(axes[:, 0], histories.items()):
        ax.plot(history["step"], history["loss"], ".", alpha=0.1, markersize=2)
        ax.set_ylim(0, 1)
        ax.set_yticks([0, 0.25, 0.5])
        ax.grid(alpha=0.3)
        ax.set_ylabel(name)
    axes[-1, 0].set_xlabel("training step")
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)
    return path


def save_translations(columns, path, title=None):
    """Image-to-image results side by side: one row per face, one titled column per entry of
    `columns` ({"input": ..., "L1 alone": ..., "cGAN + L1": ..., "real": ...}), each an array
    (N, C, H, W) in [-1, 1], C = 1 (drawn in grey) or 3."""
    names = list(columns)
    rows = len(columns[names[0]])
    figure, axes = plt.subplots(rows, len(names), figsize=(1.3 * len(names), 1.3 * rows + (0.3 if title else 0)),
                                squeeze=False)
    for c, name in enumerate(names):
        images = np.clip((np.asarray(columns[name], dtype=np.float32) + 1) / 2, 0, 1).transpose(0, 2, 3, 1)
        for r, image in enumerate(images):
            ax = axes[r, c]
            if image.shape[-1] == 1:
                ax.imshow(image[..., 0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            else:
                ax.imshow(image, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[0, c].set_title(name, fontsize=8)
    if title:
        figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def save_nearest_faces(samples, faces, distances, path, title=None):
    """Generated samples (top row) above their nearest training faces (bottom row), each column
    titled with the L2 distance between the two; samples and faces (N, 3, H, W) in [-1, 1]."""
    count = len(samples)
    figure, axes = plt.subplots(2, count, figsize=(1.3 * count, 2.9 + (0.3 if title else 0)), squeeze=False)
    for row, (images, name) in enumerate(((samples, "sample"), (faces, "nearest face"))):
        images = np.clip((np.asarray(images, dtype=np.float32) + 1) / 2, 0, 1).transpose(0, 2, 3, 1)
        for column, image in enumerate(images):
            ax = axes[row, column]
            ax.imshow(image, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[row, 0].set_ylabel(name, fontsize=8)
    for column, distance in enumerate(distances):
        axes[0, column].set_title(f"{distance:.1f}", fontsize=8)
    if title:
        figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
