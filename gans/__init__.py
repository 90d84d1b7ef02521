"""gans: the experiments of *Make Your First GAN With PyTorch* and the classic MNIST GAN/DCGAN
tutorial, run on minigrad.

Parts:  data (datasets and loaders), models (each experiment's networks), training (one
adversarial loop), objectives (what each GAN family does), metrics, plots, experiments (small
declarations; catalog lists their modules), evaluation (sample and evaluate), cli (python -m gans).
"""
