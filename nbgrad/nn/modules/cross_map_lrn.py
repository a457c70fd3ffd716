"""nn.CrossMapLRN2d: Lua Torch's cross-channel LRN, as PyTorch keeps it (a legacy layer; new code
uses LocalResponseNorm).

Its forward is PyTorch's, quirk included: the running window sum it slides over the channels
adds the channel entering the window but never removes channel 0, so from channel
(size - 1) // 2 + 2 on every window also counts channel 0. PyTorch's backward is written by hand
for the symmetric window instead, so it is not the gradient of that forward (gradcheck fails);
nbgrad differentiates the forward itself, which is the correct gradient."""
from ..._creation import tensor
from ...ops.shape import cat
from .module import Module

__all__ = ['CrossMapLRN2d']


class CrossMapLRN2d(Module):
    def __init__(self, size, alpha=1e-4, beta=0.75, k=1):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        if input.dim() != 4:
            raise ValueError(f'CrossMapLRN2d: Expected input to be 4D, got {input.dim()}D '
                             'instead.')
        channels = input.shape[1]
        pre_pad = int((self.size - 1) / 2 + 1)
        square = input * input
        # running[:, j] = sum of channels 0..j-1, so channels lo..hi sum to
        # running[:, hi + 1] - running[:, lo]
        running = cat([square[:, :1] * 0, square.cumsum(1)], 1)
        hi = [min(c + pre_pad - 1, channels - 1) + 1 for c in range(channels)]
        lo = [max(1, c - pre_pad + 1) if c > pre_pad else 0 for c in range(channels)]
        # channel 0, never taken out of PyTorch's running sum once the window has left it
        left = tensor([1.0 if start else 0.0 for start in lo], dtype=input.dtype,
                      device=input.device).view(1, channels, 1, 1)
        window = running[:, hi] - running[:, lo] + square[:, :1] * left
        scale = window * (self.alpha / self.size) + self.k
        return input * scale.pow(-self.beta)

    def extra_repr(self):
        return f'{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}'
