"""NumPy reference implementations of convolution, mirroring torch.nn.functional."""
