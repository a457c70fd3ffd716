"""jit.save / jit.load: nbgrad's jit archive, which holds data only, so loading one is safe.

The archive is a zip with one folder, nbgrad_jit/:
  version        the format's version ('1')
  program.json   what to rebuild: the module tree, and each traced method as its recordings
                 (the ops by class name, allowlisted on load, with their constants; _codec.py)
  tensors.pt     every parameter, buffer and constant tensor, in nbgrad.save's format (read
                 back with weights_only=True, onto map_location's device)
  extra/<name>   _extra_files

What each kind of object keeps:
- a traced module or function: its recordings, one per input signature it has been run on
  (trace with check_inputs=[...], or call it, on every shape you will need: nbgrad's
  recordings are specialised to their inputs' shapes and the code is not in the archive, so
  a loaded trace cannot be traced again). The module tree keeps parameters (tied ones stay
  tied), buffers (persistent or not), submodules, train/eval flags and plain attributes.
  Submodules of nbgrad.nn's classes come back as those classes (they run eagerly); a
  submodule of the program's own class comes back as a placeholder that holds its state and
  refuses forward (its code is not stored). Hooks ran while tracing, so their effect is in the
  recording; they are not stored.
- a scripted module: only when every module in it is one of nbgrad.nn's classes (rebuilt from
  class name and attributes, and run eagerly). A scripted module or function of the
  program's own code has nothing but Python code, which the archive never holds: save raises
  ArchiveError naming the class (trace it instead, or save its state_dict).
A TorchScript archive (torch.jit.save: code/ and constants.pkl) holds TorchScript code, which
nbgrad cannot run: load raises an error that says so and suggests a state_dict.
"""
import io
import json
import os
import zipfile

from ._codec import (ArchiveError, Decoder, Encoder, is_rebuildable_module_class, module_class,
                     op_class, path_of)
from ._script import RecursiveScriptModule, ScriptedFunction, ScriptModule, TracedModule
from ._trace import TracedFunction, _Recording, _Step

_FOLDER = 'nbgrad_jit/'
_VERSION = '1'
_MODULE_INTERNALS = frozenset((
    'training', '_parameters', '_buffers', '_modules', '_non_persistent_buffers_set',
    '_is_full_backward_hook', '_original_name', '_traced_methods', '_eager'))


# ------------------------------------------------------------------------------------------------
# save
# ------------------------------------------------------------------------------------------------

class _Tensors:
    """The tensors an archive refers to, each stored once (tied parameters stay tied)."""

    def __init__(self):
        self.by_key, self.key_of = {}, {}

    def add(self, tensor, key):
        if id(tensor) not in self.key_of:
            self.key_of[id(tensor)] = key
            self.by_key[key] = tensor
        return self.key_of[id(tensor)]

    def constant(self, tensor):
        """A tensor from outside the module tree (a constant the code made): its value now."""
        key = self.key_of.get(id(tensor))
        if key is None:
            key = f'constant.{len(self.by_key)}'
            self.key_of[id(tensor)] = key
            self.by_key[key] = tensor.detach() if tensor.grad_fn is not None else tensor
        return key


def save(m, f, _extra_files=None):
    """Save a traced or scripted module or a traced function to f (a path or a binary file);
    jit.load gives it back."""
    program, tensors = _program(m)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w', zipfile.ZIP_STORED) as archive:
        archive.writestr(_FOLDER + 'version', _VERSION)
        archive.writestr(_FOLDER + 'program.json', json.dumps(program, indent=1))
        weights = io.BytesIO()
        from ..serialization import save as save_tensors
        save_tensors(tensors.by_key, weights)
        archive.writestr(_FOLDER + 'tensors.pt', weights.getvalue())
        for name, content in (_extra_files or {}).items():
            archive.writestr(_FOLDER + 'extra/' + name,
                             content.encode() if isinstance(content, str) else bytes(content))
    if isinstance(f, (str, os.PathLike)):
        with open(f, 'wb') as file:
            file.write(buffer.getvalue())
    else:
        f.write(buffer.getvalue())


def _program(m):
    tensors = _Tensors()
    encode = Encoder(tensors.constant)
    if isinstance(m, TracedModule):
        root = _module_node(m, '', tensors, encode, strict=False)
        methods = {name: _function_spec(fn, tensors, encode, f'the traced method {name}')
                   for name, fn in m._traced_methods.items()}
        return {'kind': 'traced_module', 'root': root, 'methods': methods}, tensors
    if isinstance(m, TracedFunction):
        spec = _function_spec(m, tensors, encode, f'the traced function {m.__name__}')
        return {'kind': 'traced_function', 'function': spec}, tensors
    if isinstance(m, ScriptedFunction):
        m.save(None)                        # (raises: a scripted function is only code)
    if isinstance(m, RecursiveScriptModule) and m.__dict__.get('_eager') is not None:
        root = _module_node(m._eager, '', tensors, encode, strict=True)
        return {'kind': 'scripted_module', 'root': root}, tensors
    if isinstance(m, ScriptModule):         # a subclass of the program's, or of nbgrad's
        root = _module_node(m, '', tensors, encode, strict=True)
        return {'kind': 'scripted_module', 'root': root}, tensors
    raise AttributeError(f"'{type(m).__name__}' object has no attribute 'save': jit.save takes "
                         f"what jit.trace or jit.script returned (to keep only the weights, "
                         f"use nbgrad.save(model.state_dict(), f))")


def _module_node(module, path, tensors, encode, strict):
    """One module of the tree, as data; `strict`: the module must be rebuildable (scripted)."""
    where = f"submodule '{path}'" if path else 'the module'
    cls = type(module)
    original = module.__dict__.get('_original_name', cls.__name__)
    rebuildable = is_rebuildable_module_class(cls)
    if strict:
        _check_scriptable(module, cls, where)
    node = {'original_name': original, 'training': bool(module.training),
            'class': path_of(cls) if rebuildable else None,
            'parameters': {}, 'buffers': {}, 'modules': {},
            'non_persistent': sorted(module._non_persistent_buffers_set)}
    prefix = f'{path}.' if path else ''
    for name, p in module._parameters.items():
        node['parameters'][name] = None if p is None else tensors.add(p, prefix + name)
    for name, b in module._buffers.items():
        node['buffers'][name] = None if b is None else tensors.add(b, prefix + name)
    node['attributes'] = _attributes(module, where, encode, strict)
    for name, child in module._modules.items():
        node['modules'][name] = None if child is None else _module_node(
            child, prefix + name, tensors, encode, strict)
    return node


def _check_scriptable(module, cls, where):
    if not is_rebuildable_module_class(cls):
        raise ArchiveError(_user_class_message(cls, where))
    hooks = [name for name, value in module.__dict__.items() if 'hooks' in name and value]
    if hooks:
        raise ArchiveError(f'nbgrad.jit.save: {where} has hooks ({", ".join(hooks)}), which are '
                           f'Python code a jit archive does not hold. Remove them, or trace the '
                           f'module (a trace records what the hooks did).')


def _user_class_message(cls, where):
    return (f'nbgrad.jit.save cannot save this scripted module: {where} is of the program\'s own '
            f'class {cls.__module__}.{cls.__qualname__}, whose forward is Python code, and '
            f'nbgrad\'s jit archives hold data, never code (loading code would run it). Trace '
            f'it instead: jit.save(jit.trace(model, example_inputs), f); or save the weights: '
            f'nbgrad.save(model.state_dict(), f).')


def _attributes(module, where, encode, required):
    """The module's plain attributes (numbers, shapes, flags...). A rebuilt nbgrad.nn module
    needs all of them (`required`); a placeholder keeps the ones that are data."""
    attributes = {}
    for name, value in module.__dict__.items():
        if name in _MODULE_INTERNALS or 'hooks' in name:
            continue
        try:
            attributes[name] = encode(value, f"{where}'s attribute {name!r}")
        except ArchiveError:
            if required:
                raise
    return attributes


def _function_spec(fn, tensors, encode, where):
    return {'name': fn.__name__, 'arg_names': None if fn._arg_names is None
            else list(fn._arg_names),
            'recordings': [_recording_spec(key, recording, tensors, encode, where)
                           for key, recording in fn._recordings.items()]}


def _recording_spec(key, recording, tensors, encode, where):
    steps = []
    for i, step in enumerate(recording.steps):
        cls = type(step.op)
        place = f'{where}, op {i} ({step.name})'
        try:
            found = op_class(path_of(cls))
        except ArchiveError:
            found = None
        if found is not cls:
            raise ArchiveError(f'{place}: the op class {cls.__module__}.{cls.__qualname__} is '
                               f'not one nbgrad.jit.load can look up by name')
        state = {name: encode(value, f"{place}'s {name!r}") for name, value in
                 vars(step.op).items()}
        steps.append({'op': path_of(cls), 'state': state, 'inplace': step.inplace,
                      'outputs': list(step.outputs),
                      'args': [[kind, encode(ref, f'{place}\'s argument') if kind == 'literal'
                                else ref] for kind, ref in step.args]})
    return {'signature': [[list(shape), dtype.name, device] for shape, dtype, device in key],
            'steps': steps, 'outside': [tensors.constant(recording.fresh.get(i, t))
                                        for i, t in enumerate(recording.outside)],
            'fresh': sorted(recording.fresh),
            'output': _output_spec(recording.output_spec, encode, where)}


def _output_spec(spec, encode, where):
    kind, body = spec
    if kind in ('value', 'outside'):
        return [kind, body]
    if kind is dict:
        return ['dict', [[encode(k, where), _output_spec(v, encode, where)]
                         for k, v in body.items()]]
    return ['tuple' if kind is tuple else 'list', [_output_spec(s, encode, where) for s in body]]


# ------------------------------------------------------------------------------------------------
# load
# ------------------------------------------------------------------------------------------------

def load(f, map_location=None, _extra_files=None, _restore_shapes=False):
    """Load what jit.save wrote (nbgrad's jit archive; tensors onto map_location's device)."""
    name, data = _read(f)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise RuntimeError(f'nbgrad.jit.load: {name} is not an archive written by jit.save (it is '
                           f'not a zip file; it may be truncated or corrupted)') from None
    with archive:
        names = archive.namelist()
        if _FOLDER + 'program.json' not in names:
            raise RuntimeError(_not_ours(name, names))
        version = archive.read(_FOLDER + 'version').decode().strip()
        if version != _VERSION:
            raise RuntimeError(f'nbgrad.jit.load: {name} is a jit archive of version {version}, '
                               f'which this nbgrad does not read (it reads version {_VERSION})')
        program = json.loads(archive.read(_FOLDER + 'program.json'))
        from ..serialization import load as load_tensors
        tensors = load_tensors(io.BytesIO(archive.read(_FOLDER + 'tensors.pt')),
                               map_location=map_location, weights_only=True)
        for extra in (_extra_files or {}):
            entry = _FOLDER + 'extra/' + extra
            if entry in names:
                _extra_files[extra] = archive.read(entry)
    return _rebuild(program, tensors, map_location)


def _read(f):
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        if not os.path.exists(path):
            raise ValueError(f'The provided filename {path} does not exist')
        if os.path.isdir(path):
            raise ValueError(f'The provided filename {path} is a directory')
        with open(path, 'rb') as file:
            return repr(path), file.read()
    if not hasattr(f, 'read'):
        raise TypeError(f'jit.load(): f must be a path or a binary file object, got '
                        f'{type(f).__name__}')
    return 'the file', f.read()


def _not_ours(name, names):
    if any(n.endswith('/constants.pkl') or '/code/' in n for n in names):
        return (f'nbgrad.jit.load: {name} is a TorchScript archive written by torch.jit.save: it '
                f'holds TorchScript code, which nbgrad cannot load or run. In PyTorch, save the '
                f'weights with torch.save(model.state_dict(), path); in nbgrad, build the same '
                f'model in Python and load them with model.load_state_dict(nbgrad.load(path)).')
    if any(n.endswith('/data.pkl') for n in names):
        return (f'nbgrad.jit.load: {name} is a checkpoint written by torch.save or nbgrad.save, '
                f'not a jit archive: load it with nbgrad.load')
    return f'nbgrad.jit.load: {name} is a zip file but not an archive written by jit.save'


class _Placeholder(RecursiveScriptModule):
    """A loaded submodule of the program's own class: its state, not its code."""

    def forward(self, *args, **kwargs):
        raise RuntimeError(f'{self.original_name}: this submodule was loaded by jit.load from a '
                           f'traced module; its Python code is not in the archive, so it has '
                           f'no forward of its own. Call the top-level module (its trace).')


class _LoadedTracedModule(TracedModule, RecursiveScriptModule):
    """A traced module (or function: 'PlaceholderModule', as in PyTorch) from jit.load."""


def _rebuild(program, tensors, map_location):
    decode = Decoder(lambda key: tensors[key])
    kind = program.get('kind')
    if kind == 'scripted_module':
        return RecursiveScriptModule(_module_from(program['root'], tensors, decode))
    if kind == 'traced_module':
        root = _module_from(program['root'], tensors, decode)
        names = {id(t): n for n, t in [*root.named_parameters(), *root.named_buffers()]}
        methods = {name: _function_from(spec, tensors, decode, map_location, names)
                   for name, spec in program['methods'].items()}
        return _LoadedTracedModule(root, methods)
    if kind == 'traced_function':
        root = _Placeholder()
        root.__dict__['_original_name'] = 'PlaceholderModule'
        fn = _function_from(program['function'], tensors, decode, map_location, {})
        return _LoadedTracedModule(root, {'forward': fn})
    raise RuntimeError(f'nbgrad.jit.load: the archive holds a {kind!r}, which this nbgrad does '
                       f'not know')


def _module_from(node, tensors, decode):
    from ..nn import Module
    if node['class'] is not None:
        cls = module_class(node['class'])
        module = cls.__new__(cls)
        Module.__init__(module)
    else:
        module = _Placeholder()
    for name, value in node['attributes'].items():
        object.__setattr__(module, name, decode(value))
    module.__dict__['training'] = node['training']
    if node['class'] is None:
        module.__dict__['_original_name'] = node['original_name']
    for name, key in node['parameters'].items():
        module._parameters[name] = None if key is None else tensors[key]
    for name, key in node['buffers'].items():
        module._buffers[name] = None if key is None else tensors[key]
    module._non_persistent_buffers_set.update(node['non_persistent'])
    for name, child in node['modules'].items():
        module._modules[name] = None if child is None else _module_from(child, tensors, decode)
    return module


def _function_from(spec, tensors, decode, map_location, names):
    recordings = {}
    for data in spec['recordings']:
        key = tuple((tuple(shape), decode({'$': 'dtype', 'v': dtype}),
                     _mapped(device, map_location)) for shape, dtype, device in data['signature'])
        recordings[key] = _recording_from(data, tensors, decode)
    fn = TracedFunction.__new__(TracedFunction)
    first_key = next(iter(recordings))
    fn._fn = None
    fn._n_inputs = len(first_key)
    fn._example_shapes = [shape for shape, _, _ in first_key]
    fn._recordings = recordings
    fn._first = recordings[first_key]
    fn._arg_names = None if spec['arg_names'] is None else tuple(spec['arg_names'])
    fn.__name__ = spec['name']
    fn._names = names
    return fn


def _recording_from(data, tensors, decode):
    steps = []
    for s in data['steps']:
        cls = op_class(s['op'])
        op = cls.__new__(cls)
        op.__dict__.update({name: decode(value) for name, value in s['state'].items()})
        args = [(kind, decode(ref) if kind == 'literal' else int(ref)) for kind, ref in s['args']]
        if any(kind not in ('value', 'outside', 'literal') for kind, _ in args):
            raise ArchiveError('the archive holds an op argument of an unknown kind')
        step = _Step(op, args, bool(s['inplace']))
        step.outputs = tuple(s['outputs'])
        steps.append(step)
    outside = [tensors[key] for key in data['outside']]
    return _Recording(steps, outside, _output_from(data['output'], decode),
                      {int(i): outside[int(i)] for i in data.get('fresh', ())})


def _output_from(spec, decode):
    kind, body = spec
    if kind in ('value', 'outside'):
        return (kind, int(body))
    if kind == 'dict':
        return (dict, {decode(k): _output_from(v, decode) for k, v in body})
    if kind in ('tuple', 'list'):
        return (tuple if kind == 'tuple' else list, [_output_from(s, decode) for s in body])
    raise ArchiveError(f'the archive holds an output of an unknown kind {kind!r}')


def _mapped(device, map_location):
    """The device a recorded input's device becomes, as its tensors do under map_location."""
    from .._device import device as Device
    if map_location is None or callable(map_location) and not isinstance(map_location, Device):
        return device
    if isinstance(map_location, dict):
        return str(map_location.get(device, device))
    return str(Device(map_location))
