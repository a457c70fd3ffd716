"""Regenerate nbgrad/_compiler_config.json from the installed PyTorch: the names and defaults of
torch._inductor.config and torch._dynamo.config, which nbgrad keeps (and reads back) so that
training scripts setting them run. nbgrad has no compiler, so none of them changes anything.

    .venv/bin/python scripts/gen_compiler_config.py
"""
import json
import os

import torch
import torch._dynamo.config
import torch._inductor.config


def _plain(value):
    """A JSON value for a default. Sets, tuples and dicts are marked ({'__set__': [...]},
    {'__tuple__': [...]}, {'__dict__': {...}}), so that they come back as themselves and a dict
    default is not read as a section; sets keep their string members. Paths (PyTorch computes
    them from its install folder or the working directory) and anything else JSON cannot hold
    become None."""
    if isinstance(value, str) and os.path.isabs(value):
        return None
    if isinstance(value, (set, frozenset)):
        return {'__set__': sorted(v for v in value if isinstance(v, str))}
    if isinstance(value, tuple):
        return {'__tuple__': [_plain(v) for v in value]}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            return None
        return {'__dict__': {k: _plain(v) for k, v in value.items()}}
    try:
        json.dumps(value)
        return value
    except TypeError:
        return None


def _nested(flat):
    tree = {}
    for key in sorted(flat):
        *sections, leaf = key.split('.')
        node = tree
        for section in sections:
            node = node.setdefault(section, {})
        node[leaf] = _plain(flat[key])
    return tree


def main():
    data = {'torch_version': torch.__version__.split('+')[0],
            'inductor': _nested(torch._inductor.config.get_config_copy()),
            'dynamo': _nested(torch._dynamo.config.get_config_copy())}
    path = os.path.join(os.path.dirname(__file__), '..', 'nbgrad', '_compiler_config.json')
    with open(path, 'w') as f:
        json.dump(data, f, indent=0, sort_keys=True)
        f.write('\n')


if __name__ == '__main__':
    main()
