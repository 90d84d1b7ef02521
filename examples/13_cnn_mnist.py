"""Book chapter 13: a convolutional network classifies MNIST.

Run:  python examples/13_cnn_mnist.py [--epochs 3] [--limit N] [--data-dir ROOT]

Instead of connecting every pixel to every hidden neuron, a convolution slides small
filters (5x5, then 3x3) over the image, so the same feature detector is used everywhere.
With LeakyReLU, BatchNorm, BCE and Adam, and still one image per step, the book scores
0.9814 after 3 epochs (about 1.5 minutes here). Unlike the book, the training images come in a
new random order every epoch (--book-order keeps the file's order): see gans/classifiers.py.
"""

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # draw into PNG files; no window needed
import matplotlib.pyplot as plt  # noqa: E402

import minigrad as mg  # noqa: E402
from gans.classifiers import CNN, accuracy, load_mnist, train_classifier  # noqa: E402
from gans.registry import ExperimentError  # noqa: E402

OUT = Path("runs/examples/13_cnn_mnist")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=float, default=3, help="the book trains 3")
    parser.add_argument("--limit", type=int, default=None, help="train on the first N images only")
    parser.add_argument("--book-order", action="store_true", help="the file's order every epoch, as the book")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    try:
        train, test = load_mnist(args.data_dir, flatten=False, train_limit=args.limit)
    except ExperimentError as error:
        raise SystemExit(f"{error}\n\nNo MNIST data: pass --data-dir ROOT (a folder holding mnist/).")

    mg.manual_seed(0)
    C, loss_function, optimiser = CNN.build()
    print(C)
    print("parameters:", sum(p.numel() for p in C.parameters()), "(the chapter 4 network has 159,410)")

    started = time.perf_counter()
    history = train_classifier(C, loss_function, optimiser, train, epochs=args.epochs, batch_size=1,
                               shuffle=not args.book_order, progress=True, description="CNN")
    print(f"trained in {time.perf_counter() - started:.0f} s")

    OUT.mkdir(parents=True, exist_ok=True)
    # The first layer's 10 filters: what each one looks for in a 5x5 patch.
    filters = C[0].weight.numpy()[:, 0]
    figure, axes = plt.subplots(1, 10, figsize=(12, 1.6))
    for ax, kernel in zip(axes, filters):
        ax.imshow(kernel, cmap="Blues", interpolation="none")
        ax.axis("off")
    figure.suptitle("the first convolution's 10 filters (5x5)")
    figure.savefig(OUT / "filters.png", dpi=80)
    plt.close(figure)

    plt.figure(figsize=(12, 4))
    plt.plot(history["step"], history["loss"], ".", alpha=0.1, markersize=3)
    plt.ylim(0, 1)
    plt.yticks([0, 0.25, 0.5])
    plt.grid(alpha=0.3)
    plt.xlabel("training step")
    plt.ylabel("BCE loss")
    plt.savefig(OUT / "loss.png", dpi=80)
    plt.close()

    # At batch size 1, BatchNorm learned to normalise each image by its own statistics, so the
    # book's way of testing (one image at a time, training mode) asks the network that was trained.
    book_style = accuracy(C, test, book_style=True)
    eval_mode = accuracy(C, test)  # BatchNorm's running averages instead: a network it never was
    print(f"score on the test set: {book_style:.4f}   (book: 0.9814)")
    print(f"the same network in eval mode: {eval_mode:.4f} (why it is lower: docs/classifiers.md)")

    # The test images it gets wrong, asked the same way.
    wrong = []
    C.train()
    with mg.no_grad():
        for index in range(len(test)):
            image, label = test[index]
            answer = int(C(image.view(1, 1, 28, 28)).argmax().item())
            if answer != label:
                wrong.append((image.numpy()[0], label, answer))
    if wrong:
        shown = wrong[:12]
        figure, axes = plt.subplots(1, len(shown), figsize=(1.2 * len(shown), 1.8), squeeze=False)
        for ax, (image, label, answer) in zip(axes[0], shown):
            ax.imshow(image, cmap="Blues", interpolation="none")
            ax.set_title(f"{label} -> {answer}", fontsize=8)
            ax.axis("off")
        figure.savefig(OUT / "mistakes.png", dpi=80)
        plt.close(figure)
    print(f"{len(wrong)} of {len(test)} test images wrong")
    print(f"saved {OUT / 'loss.png'}, {OUT / 'filters.png'} and {OUT / 'mistakes.png'} (label -> answer)")


if __name__ == "__main__":
    main()
