"""gans.models, the image-to-image networks: pix2pix's U-Net and PatchGAN, CycleGAN's ResNet generator.

Shapes at 64x64, the U-Net's skip connections, the PatchGAN's grid and receptive field, the
residual blocks, the N(0, 0.02) initialisation, and the parameter counts their docstrings state.
"""

import re

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
from gans import models
from minigrad.nn import set_training_mode


def count(model):
    return sum(p.array.size for p in model.parameters())


def stated_counts(docstring):
    """Every 'N,NNN,NNN' number in a docstring, as ints."""
    return {int(text.replace(",", "")) for text in re.findall(r"\d{1,3}(?:,\d{3})+", docstring)}


def test_the_docstrings_state_the_parameter_counts():
    assert count(models.UNetGenerator(1, 3)) in stated_counts(models.UNetGenerator.__doc__)
    assert count(models.UNetGenerator(3, 3)) in stated_counts(models.UNetGenerator.__doc__)
    for channels in (3, 4):
        assert count(models.patch_discriminator(channels)) in stated_counts(models.patch_discriminator.__doc__)
    assert count(models.patch_discriminator(4, strided=2)) in stated_counts(models.patch_discriminator.__doc__)
    assert count(models.resnet_generator(3, 3)) in stated_counts(models.resnet_generator.__doc__)


# --- the U-Net ----------------------------------------------------------------------------

def test_unet_maps_64x64_inputs_to_64x64_images_in_tanh_range():
    G = models.UNetGenerator(1, 3, ngf=4)
    out = G(mg.randn(2, 1, 64, 64))
    assert out.shape == (2, 3, 64, 64)
    assert np.abs(out.numpy()).max() < 1
    assert len(G.downs) == 6 and len(G.ups) == 5  # 64 -> 1 pixel and back (the last up is G.outermost)


def test_unet_dropout_in_the_first_three_decoder_layers_only():
    G = models.UNetGenerator(1, 3, ngf=4)
    with_dropout = [any(isinstance(m, nn.Dropout) for m in up.modules()) for up in G.ups]
    assert with_dropout == [True, True, True, False, False]


def test_unet_skip_connections_carry_the_input_past_a_cut_bottleneck():
    """With the innermost conv's weights and bias zero, nothing passes the 1x1 bottleneck; the
    output still depends on the input, so it reaches the decoder through the skips."""
    G = set_training_mode(models.UNetGenerator(1, 3, ngf=4), False)  # eval: no dropout
    innermost = G.downs[-1][0]
    nn.init.zeros_(innermost.weight)
    nn.init.zeros_(innermost.bias)
    x = mg.randn(1, 1, 64, 64, requires_grad=True)
    G(x)[0, :, 20, 20].sum().backward()
    gradient = np.abs(x.grad.numpy()[0, 0])
    assert gradient.max() > 0
    # through the outermost skip, the pixel's own neighbourhood matters
    assert gradient[18:23, 18:23].sum() > 0


def test_unet_without_skips_would_be_blind_past_a_cut_bottleneck():
    """The control of the test above: the same cut, and the skips' values replaced by zeros, gives
    an output that no longer depends on the input."""
    G = set_training_mode(models.UNetGenerator(1, 3, ngf=4), False)
    nn.init.zeros_(G.downs[-1][0].weight)
    nn.init.zeros_(G.downs[-1][0].bias)
    x = mg.randn(1, 1, 64, 64, requires_grad=True)
    h, skips = x, []
    for down in G.downs:
        h = down(h)
        skips.append(h)
    skips.pop()
    for up in G.ups:
        skip = skips.pop()
        h = mg.cat([mg.zeros_like(skip), up(h)], dim=1)
    G.outermost(h)[0, :, 20, 20].sum().backward()
    assert x.grad is None or np.abs(x.grad.numpy()).max() == 0


# --- the PatchGAN -------------------------------------------------------------------------

@pytest.mark.parametrize("strided, grid, field", [(1, 30, 16), (2, 14, 34), (3, 6, 70)])
def test_patchgan_grid_and_receptive_field(strided, grid, field):
    D = models.patch_discriminator(4, ndf=4, strided=strided)
    assert D(mg.randn(2, 4, 64, 64)).shape == (2, 1, grid, grid)
    assert models.receptive_field(D) == field


def test_patchgan_one_score_sees_a_16x16_patch():
    """The gradient of one score reaches exactly a 16x16 window of the input. (InstanceNorm is
    taken out: it mixes statistics over the whole image, though not the values themselves.)"""
    D = models.patch_discriminator(4, ndf=4)
    for name, module in list(D._modules.items()):
        if isinstance(module, nn.InstanceNorm2d):
            D._modules[name] = nn.Identity()
    x = mg.randn(1, 4, 64, 64, requires_grad=True)
    D(x)[0, 0, 10, 12].backward()
    rows, cols = np.nonzero(np.abs(x.grad.numpy()[0]).sum(axis=0))
    assert rows.max() - rows.min() + 1 == 16 and cols.max() - cols.min() + 1 == 16


# --- the ResNet generator -------------------------------------------------------------------

def test_resnet_generator_shapes_and_range():
    G = models.resnet_generator(3, 3, ngf=4, blocks=2)
    out = G(mg.randn(2, 3, 64, 64))
    assert out.shape == (2, 3, 64, 64) and np.abs(out.numpy()).max() < 1
    assert sum(isinstance(m, models.ResidualBlock) for m in G.modules()) == 2
    assert sum(isinstance(m, nn.ReflectionPad2d) for m in G.modules()) == 2 + 2 * 2
    assert models.resnet_generator(1, 3, ngf=4, blocks=1)(mg.randn(1, 1, 64, 64)).shape == (1, 3, 64, 64)


def test_a_residual_block_whose_body_gives_zero_is_the_identity():
    block = models.ResidualBlock(4)
    nn.init.zeros_(block.body[5].weight)
    nn.init.zeros_(block.body[5].bias)
    x = mg.randn(2, 4, 8, 8)
    np.testing.assert_allclose(block(x).numpy(), x.numpy(), atol=1e-6)


# --- initialisation -----------------------------------------------------------------------

@pytest.mark.parametrize("make", [lambda: models.UNetGenerator(1, 3), lambda: models.patch_discriminator(4),
                                  lambda: models.resnet_generator(3, 3)])
def test_normal_init_draws_conv_weights_from_n0_002_and_zeroes_biases(make):
    model = models.normal_init_(make())
    weights = np.concatenate([m.weight.numpy().ravel() for m in model.modules()
                              if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))])
    assert abs(weights.mean()) < 1e-3 and abs(weights.std() - 0.02) < 1e-3
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            assert not m.bias.numpy().any()
