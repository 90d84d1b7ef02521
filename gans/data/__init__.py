"""Datasets for the experiments: MNIST (idx and the book's CSV), the 1010 pattern, CelebA through HDF5."""
