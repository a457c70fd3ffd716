"""Settings namespaces shaped like PyTorch's config modules (torch._dynamo.config,
torch._inductor.config): a fixed set of names with defaults, read and written as attributes (an
unknown name is PyTorch's AttributeError, so a typo is not silently kept), nested sections
(config.triton.cudagraphs), and patch(), a context manager and decorator that sets some and
puts them back."""
import contextlib
import functools
import sys


class ConfigModule:
    def __init__(self, qualname, defaults, aliases=None):
        object.__setattr__(self, '_qualname', qualname)
        values = {}
        for name, value in defaults.items():
            if value.__class__ is _Value:
                values[name] = dict(value)
            elif isinstance(value, dict):
                values[name] = ConfigModule(f'{qualname}.{name}', value)
            else:
                values[name] = value
        object.__setattr__(self, '_values', values)
        # old names PyTorch still accepts for some settings (cache_size_limit: recompile_limit)
        object.__setattr__(self, '_aliases', dict(aliases or {}))

    def __getattr__(self, name):
        values = object.__getattribute__(self, '_values')
        name = object.__getattribute__(self, '_aliases').get(name, name)
        if name in values:
            return values[name]
        raise AttributeError(f'{self._qualname}.{name} does not exist')

    def __setattr__(self, name, value):
        name = self._aliases.get(name, name)
        if name not in self._values or isinstance(self._values[name], ConfigModule):
            raise AttributeError(f'{self._qualname}.{name} does not exist')
        self._values[name] = value

    def __dir__(self):
        return sorted(self._values)

    def get_config_copy(self):
        return {k: v.get_config_copy() if isinstance(v, ConfigModule) else v
                for k, v in self._values.items()}

    def patch(self, arg1=None, arg2=None, **kwargs):
        """patch(name, value), patch({name: value}) or patch(name=value): the settings changed
        inside a `with` block or a decorated function, then put back."""
        changes = dict(kwargs)
        if isinstance(arg1, str):
            changes[arg1] = arg2
        elif isinstance(arg1, dict):
            changes.update(arg1)
        return _Patch(self, changes)

    def __repr__(self):
        return f"<module '{self._qualname}'>"


class _Patch(contextlib.ContextDecorator):
    def __init__(self, config, changes):
        self.config, self.changes, self.saved = config, changes, []

    def __enter__(self):
        saved = {}
        for name, value in self.changes.items():
            section, _, leaf = name.rpartition('.')
            target = functools.reduce(getattr, section.split('.'), self.config) if section \
                else self.config
            saved[name] = (target, leaf, getattr(target, leaf))
            setattr(target, leaf, value)
        self.saved.append(saved)
        return self

    def __exit__(self, *exc):
        for target, leaf, value in self.saved.pop().values():
            setattr(target, leaf, value)
        return False


def torch_defaults(section):
    """PyTorch's names and defaults for torch._<section>.config (_compiler_config.json, written by
    scripts/gen_compiler_config.py from the PyTorch release it names): nested dicts, sets as
    sets."""
    import json
    import os
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), '_compiler_config.json')
    with open(path) as f:
        return _sets(json.load(f)[section])


def _sets(tree):
    """The JSON's marked values as Python's (see scripts/gen_compiler_config.py); the unmarked
    dicts are sections."""
    if isinstance(tree, list):
        return [_sets(v) for v in tree]
    if isinstance(tree, dict):
        marks = set(tree)
        if marks == {'__set__'}:
            return set(tree['__set__'])
        if marks == {'__tuple__'}:
            return tuple(_sets(v) for v in tree['__tuple__'])
        if marks == {'__dict__'}:
            return _Value({k: _sets(v) for k, v in tree['__dict__'].items()})
        return {k: _sets(v) for k, v in tree.items()}
    return tree


class _Value(dict):
    """A dict-valued setting (as opposed to a section, which is a plain dict in the defaults)."""


def install(module_name, defaults, aliases=None):
    """The ConfigModule for module_name, also importable as that module."""
    config = ConfigModule(module_name, defaults, aliases)
    sys.modules[module_name] = config
    return config
