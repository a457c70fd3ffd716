"""Hook registries: HookDict, the dict every hook table is, and RemovableHandle, what every
register_*hook returns (PyTorch's torch.utils.hooks.RemovableHandle)."""
import itertools
import weakref
from collections import OrderedDict


class HookDict(OrderedDict):
    """The hooks by handle id, in registration order: an OrderedDict, as PyTorch's hook tables
    are (libraries move a hook first with move_to_end), that handles can refer to weakly."""
    __slots__ = ()


class RemovableHandle:
    """Returned by every register_*hook; `handle.remove()` unregisters the hook (PyTorch's
    torch.utils.hooks.RemovableHandle): it drops the hook's id from hooks_dict and from each
    extra_dict (a module's with_kwargs / always_call flags)."""
    _ids = itertools.count()

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.id = next(RemovableHandle._ids)
        self._hooks_ref = weakref.ref(hooks_dict)
        extras = [] if extra_dict is None else \
            [extra_dict] if isinstance(extra_dict, dict) else list(extra_dict)
        self._extra_refs = tuple(weakref.ref(d) for d in extras)

    def remove(self):
        for ref in (self._hooks_ref, *self._extra_refs):
            hooks = ref()
            if hooks is not None:
                hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()

    def __getstate__(self):
        """Pickled with the dicts it refers to (a module with hooks, a lazy module's own
        initialisation hook, pickles as in PyTorch)."""
        return self._hooks_ref(), self.id, tuple(ref() for ref in self._extra_refs)

    def __setstate__(self, state):
        hooks, self.id, extras = state
        self._hooks_ref = _weak_or_dead(hooks)
        self._extra_refs = tuple(_weak_or_dead(d) for d in extras)
        # later handles must not reuse this id in the restored dicts
        RemovableHandle._ids = itertools.count(max(next(RemovableHandle._ids), self.id + 1))


def _weak_or_dead(target):
    return weakref.ref(target) if target is not None else (lambda: None)
