"""Book appendix D: why GAN training can fail to converge.

Two players share f(x, y) = x * y: x wants f large, y wants it small. Each takes a gradient step
at the same time (lr 0.1) from (0.6, 0.7): x += lr * y, y -= lr * x. Instead of settling at the equilibrium (0, 0), the
point circles outwards: its distance from the origin grows from about 0.92 to about 11 in 499
steps, exactly as the closed form r_n = r_0 (1 + lr^2)^(n/2) says.

Run:  python examples/appendix_d_convergence.py      (writes runs/examples/appendix_d/spiral.png)
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from gans.appendix import closed_form_radius, simultaneous_steps  # noqa: E402

path = simultaneous_steps(0.6, 0.7, lr=0.1, steps=499)
radius = np.hypot(path[:, 0], path[:, 1])
print(f"start (x, y) = ({path[0, 0]:.2f}, {path[0, 1]:.2f}), radius {radius[0]:.3f}")
print(f"after 499 steps (x, y) = ({path[-1, 0]:.2f}, {path[-1, 1]:.2f}), radius {radius[-1]:.3f}")
print(f"largest gap to the closed form: {np.abs(radius - closed_form_radius()).max():.1e}")

out = Path("runs/examples/appendix_d")
out.mkdir(parents=True, exist_ok=True)
figure, (spiral, growth) = plt.subplots(1, 2, figsize=(11, 5))
spiral.plot(path[:, 0], path[:, 1], linewidth=0.8)
spiral.plot(*path[0], "go", label="start (0.6, 0.7)")
spiral.plot(0, 0, "k+", markersize=12, label="equilibrium (0, 0)")
spiral.set_aspect("equal")
spiral.set_xlabel("x")
spiral.set_ylabel("y")
spiral.legend()
spiral.set_title("simultaneous gradient steps on f = x·y")
growth.plot(radius, label="radius of the iterates")
growth.plot(closed_form_radius(), "--", label="closed form r₀(1 + lr²)^(n/2)")
growth.set_xlabel("step")
growth.legend()
figure.tight_layout()
figure.savefig(out / "spiral.png", dpi=100)
print(f"figure: {out / 'spiral.png'}")
