"""torch.memory_format: how a new tensor lays out its elements.

preserve_format (the default of clone and the *_like factories) keeps a permuted dense layout, as
PyTorch does, which matters beyond strides: random fills visit elements in memory order, so a
seeded rand_like of a transposed tensor gives PyTorch's numbers. channels_last layouts are
accepted and give the same values in nbgrad's default (C) layout.
"""


class memory_format:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f'nbgrad.{self.name}'

    def __reduce__(self):
        return self.name  # pickles as the module-level singleton


contiguous_format = memory_format('contiguous_format')
preserve_format = memory_format('preserve_format')
channels_last = memory_format('channels_last')
channels_last_3d = memory_format('channels_last_3d')
