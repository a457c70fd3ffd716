"""torch.hub.tqdm: tqdm's progress bar when tqdm is installed, else PyTorch's small stand-in that
writes the percentage (or the byte count, without a total) to stderr. torchvision and other
model code import it from torch.hub (and torch.utils.model_zoo)."""
import sys


class _Faketqdm:
    """The subset of tqdm that downloads use: update(n), close(), write(s), a context manager.
    Extra tqdm arguments are accepted and ignored."""

    def __init__(self, total=None, disable=False, unit=None, *args, **kwargs):
        self.total = total
        self.disable = disable
        self.n = 0

    def update(self, n):
        if self.disable:
            return
        self.n += n
        if self.total is None:
            sys.stderr.write(f'\r{self.n:.1f} bytes')
        else:
            sys.stderr.write(f'\r{100 * self.n / float(self.total):.1f}%')
        sys.stderr.flush()

    def set_description(self, *args, **kwargs):
        pass

    def write(self, s):
        sys.stderr.write(f'{s}\n')

    def close(self):
        self.disable = True

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        if not self.disable:
            sys.stderr.write('\n')


try:
    from tqdm import tqdm
except ImportError:
    tqdm = _Faketqdm
