"""Fake cupy.cuda.memory_hook: the base class nbgrad subclasses to track peak memory."""


class MemoryHook:
    name = 'MemoryHook'

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass
