"""The modules behind nbgrad.utils.benchmark (torch.utils.benchmark.utils's layout)."""
