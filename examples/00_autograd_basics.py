"""Book chapters 0 and 1: tensors, and gradients worked out by autograd.

Run:  python examples/00_autograd_basics.py

Every number printed here is one the book prints with PyTorch; only the import differs.
"""

import minigrad as mg


def chapter0():
    print("== Chapter 0: tensors and automatic gradients ==")
    x = mg.tensor(3.5)
    print("a tensor:", x, "  x*x =", x * x)

    # y = (x - 1)(x - 2)(x - 3); dy/dx = 3x^2 - 12x + 11
    x = mg.tensor(3.5, requires_grad=True)
    y = (x - 1) * (x - 2) * (x - 3)
    y.backward()
    print(f"y = (x-1)(x-2)(x-3) at x = 3.5:  y = {y.item()}  (book: 1.875)")
    print(f"dy/dx = {x.grad.item()}  (book: 5.75; by hand 3x^2 - 12x + 11 = {3 * 3.5**2 - 12 * 3.5 + 11})")
    return y.item(), x.grad.item()


def chapter1():
    print("\n== Chapter 1: the computation graph ==")
    # (x) -> (y) -> (z):  y = x^2, z = 2y + 3, so dz/dx = 4x
    x = mg.tensor(3.5, requires_grad=True)
    y = x * x
    z = 2 * y + 3
    z.backward()
    print(f"z = 2x^2 + 3 at x = 3.5:  dz/dx = {x.grad.item()}  (book: 14)")

    # Two paths from a to z (through x and through y): their contributions add up.
    a = mg.tensor(2.0, requires_grad=True)
    b = mg.tensor(1.0, requires_grad=True)
    x = 2 * a + 3 * b
    y = 5 * a * a + 3 * b * b * b
    z = 2 * x + 3 * y
    z.backward()
    print("x = 2a + 3b, y = 5a^2 + 3b^3, z = 2x + 3y at a = 2, b = 1:")
    print(f"  dz/da = {a.grad.item()}  (book: 64; by hand 4 + 30a = {4 + 30 * 2.0})")
    print(f"  dz/db = {b.grad.item()}  (by hand 6 + 27b^2 = {6 + 27 * 1.0**2})")
    return a.grad.item(), b.grad.item()


if __name__ == "__main__":
    chapter0()
    chapter1()
