"""Boolean switches with PyTorch's type check (a bool, nothing else), as class attributes of the
module or object that holds them."""


class BoolFlag:
    """A bool attribute; `setter` is the name PyTorch's error message gives its C setter."""

    def __init__(self, default, setter):
        self.default, self.setter = default, setter

    def __set_name__(self, owner, name):
        self.name = '_' + name

    def __get__(self, obj, owner=None):
        return self if obj is None else getattr(obj, self.name, self.default)

    def __set__(self, obj, value):
        if not isinstance(value, bool):
            raise RuntimeError(f'{self.setter} expects a bool, but got {type(value).__name__}')
        setattr(obj, self.name, value)
