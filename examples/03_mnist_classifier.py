"""Book chapter 3: the first neural network, an MNIST classifier.

Run:  python examples/03_mnist_classifier.py [--epochs 4] [--limit N] [--data-dir ROOT]

784 pixels -> 200 sigmoid neurons -> 10 sigmoid outputs, one per digit. The target is
one-hot (1 at the true digit), the loss is the mean squared error, and plain stochastic
gradient descent (lr 0.01) updates the weights after every single image, walking the
training images in the file's order, as the book. The book trains 4 epochs (about a minute
here) and scores 0.88 on the 10,000 test images.
"""

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # draw into PNG files; no window needed
import matplotlib.pyplot as plt  # noqa: E402

import minigrad as mg  # noqa: E402
from gans.classifiers import PROGRESSION, accuracy, load_mnist, train_step  # noqa: E402
from gans.registry import ExperimentError  # noqa: E402

OUT = Path("runs/examples/03_mnist_classifier")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4, help="the book trains 4")
    parser.add_argument("--limit", type=int, default=None, help="train on the first N images only")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    try:
        train, test = load_mnist(args.data_dir, train_limit=args.limit)
    except ExperimentError as error:
        raise SystemExit(f"{error}\n\nNo MNIST data: pass --data-dir ROOT (a folder holding mnist/).")

    mg.manual_seed(0)
    recipe = PROGRESSION[0]  # Sigmoid, MSE, SGD(lr=0.01)
    C, loss_function, optimiser = recipe.build()
    print(C)

    # The book's training loop: one image per step, the training set in its order, every epoch.
    progress = []  # the loss of every 10th step, as the book's classifier keeps it
    counter = 0
    started = time.perf_counter()
    for epoch in range(args.epochs):
        print("training epoch", epoch + 1, "of", args.epochs)
        for image, target in mg.data.DataLoader(train, batch_size=1):
            loss = train_step(C, loss_function, optimiser, image, target)
            counter += 1
            if counter % 10 == 0:
                progress.append(loss.item())
            if counter % 10000 == 0:
                print("counter =", counter)
    print(f"trained {counter} steps in {time.perf_counter() - started:.0f} s")

    OUT.mkdir(parents=True, exist_ok=True)
    plt.figure(figsize=(12, 5))
    plt.plot(progress, ".", alpha=0.1, markersize=3)
    plt.ylim(0, 1)
    plt.yticks([0, 0.25, 0.5])
    plt.grid(alpha=0.3)
    plt.xlabel("training step / 10")
    plt.ylabel("MSE loss")
    plt.savefig(OUT / "loss.png", dpi=80)
    plt.close()

    # Ask the trained network about one test image (the book looks at record 19).
    record = 19 if len(test) > 19 else 0
    image, label = test[record]
    with mg.no_grad():
        output = C(image.view(1, 784)).numpy()[0]
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 4))
    left.imshow(image.numpy().reshape(28, 28), interpolation="none", cmap="Blues")
    left.set_title(f"test image {record}, label = {label}")
    right.bar(range(10), output)
    right.set_ylim(0, 1)
    right.set_xticks(range(10))
    right.set_title(f"the network's outputs: it says {output.argmax()}")
    figure.tight_layout()
    figure.savefig(OUT / "test_image.png", dpi=80)
    plt.close(figure)
    print(f"test image {record} shows a {label}; the network's largest output is at {output.argmax()}")

    score = accuracy(C, test)
    print(f"score on the test set: {round(score * len(test))} of {len(test)} = {score:.4f}   (book: 0.88)")
    print(f"saved {OUT / 'loss.png'} and {OUT / 'test_image.png'}")


if __name__ == "__main__":
    main()
