"""Where the ideal losses come from: ln 2 for BCE and 0.25 for MSE.

At the GAN's equilibrium the generator's images look exactly like real ones, so the best the
discriminator can do is answer 0.5 for everything. Then

    BCE:  -ln(0.5) = ln 2 ≈ 0.693   (for a real image with target 1 and a fake with target 0 alike)
    MSE:  (0.5 - 1)^2 = (0.5 - 0)^2 = 0.25

This script checks both ways: the losses of an output of 0.5, computed by minigrad's loss
functions, and the constant output that gradient descent finds when real and fake look alike.

Run:  python examples/ideal_losses.py
"""

import math

from gans.appendix import best_constant_output, equilibrium_losses

losses = equilibrium_losses()
print(f"BCE of D = 0.5: real {losses['bce_real']:.6f}, fake {losses['bce_fake']:.6f}; ln 2 = {math.log(2):.6f}")
print(f"MSE of D = 0.5: real {losses['mse_real']:.6f}, fake {losses['mse_fake']:.6f}")
for loss in ("bce", "mse"):
    d, value = best_constant_output(loss)
    print(f"{loss.upper()}: gradient descent on the average loss finds D = {d:.6f}, loss {value:.6f}")
