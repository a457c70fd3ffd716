"""torch.func's pytrees: nested tuples, lists and dicts whose leaves are tensors (or anything
else), flattened to a list of leaves and rebuilt."""


def flatten(tree):
    """(leaves, rebuild) for nested tuples/lists/dicts; rebuild(new_leaves) restores the shape."""
    if isinstance(tree, (tuple, list)):
        parts = [flatten(item) for item in tree]
        counts = [len(leaves) for leaves, _ in parts]

        def rebuild(leaves):
            items, at = [], 0
            for (_, inner), n in zip(parts, counts):
                items.append(inner(leaves[at:at + n]))
                at += n
            return type(tree)(items) if not hasattr(tree, '_fields') else type(tree)(*items)
        return [leaf for leaves, _ in parts for leaf in leaves], rebuild
    if isinstance(tree, dict):
        keys = list(tree)
        leaves, inner = flatten([tree[k] for k in keys])
        return leaves, lambda new: dict(zip(keys, inner(new)))
    return [tree], lambda new: new[0]


def spec_text(tree):
    """The structure of tree as PyTorch's TreeSpec prints it (its vmap errors show it):
    TreeSpec(tuple, None, [*,\\n  *]) for a pair of leaves."""
    return _spec_text(tree, 0)


def _spec_text(tree, indent):
    if isinstance(tree, dict):
        kind, context, children = 'dict', repr(list(tree)), list(tree.values())
    elif isinstance(tree, (tuple, list)):
        kind = type(tree).__name__
        context = repr(list(tree._fields)) if hasattr(tree, '_fields') else 'None'
        children = list(tree)
    else:
        return '*'
    inner = ''
    if children:
        indent += 2
        inner = _spec_text(children[0], indent) + (',' if len(children) > 1 else '')
        inner += ','.join('\n' + ' ' * indent + _spec_text(c, indent) for c in children[1:])
    return f'TreeSpec({kind}, {context}, [{inner}])'


def broadcast_prefix(prefix, tree):
    """prefix's leaves, each repeated for the leaves of the subtree of `tree` it stands for
    (in_dims=(0, None) for two arguments, a dict of dims for a dict argument), or None where
    prefix is not a prefix of tree's structure (PyTorch's _broadcast_to_and_flatten)."""
    if isinstance(prefix, (tuple, list, dict)):
        if type(prefix) is not type(tree) or len(prefix) != len(tree):
            return None
        if isinstance(prefix, dict):
            if set(prefix) != set(tree):
                return None
            pairs = [(prefix[k], tree[k]) for k in tree]
        else:
            pairs = list(zip(prefix, tree))
        out = []
        for p, t in pairs:
            part = broadcast_prefix(p, t)
            if part is None:
                return None
            out.extend(part)
        return out
    return [prefix] * len(flatten(tree)[0])
