"""MyTorch: a tiny numpy deep-learning framework (this assignment's convolution and loss)."""
