"""Training recognisers: data preparation, augmentation, the training loop, checkpoints."""
