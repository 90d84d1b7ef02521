"""Every experiment of `python -m gans`: the one list of the modules that declare them.

Each module below ends with one `register(...)` of its declarations (gans/registry.py), so
importing this module registers every experiment: `import gans.catalog`, then
`gans.registry.get_experiment(name)`. A new module of experiments is added here.
"""

from . import began, classifiers, experiments, image_to_image, seeds, wgan  # noqa: F401
