"""One module per model family; each registers its classes for checkpoints."""
