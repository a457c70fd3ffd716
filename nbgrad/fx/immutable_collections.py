"""The list and dict kinds a Node keeps its operands in: editing them in place would bypass the
def-use bookkeeping (node.args = ... re-derives it), so they refuse, as PyTorch's do."""


def _refuse(self, *args, **kwargs):
    raise TypeError(f"'{type(self).__name__}' object does not support mutation. Assign a new "
                    f"value to node.args or node.kwargs instead (new_args = ...; "
                    f"node.args = new_args).")


class immutable_list(list):  # noqa: N801 (PyTorch's name)
    __delitem__ = __iadd__ = __imul__ = __setitem__ = append = clear = extend = insert = \
        pop = remove = reverse = sort = _refuse

    def __hash__(self):
        return hash(tuple(self))

    def __reduce__(self):
        return immutable_list, (tuple(self),)


class immutable_dict(dict):  # noqa: N801 (PyTorch's name)
    __delitem__ = __setitem__ = __ior__ = clear = pop = popitem = setdefault = update = _refuse

    def __hash__(self):
        return hash(tuple(self.items()))

    def __reduce__(self):
        return immutable_dict, (tuple(self.items()),)
