"""nn.Module against PyTorch: the same model code runs with lib=torch and lib=nbgrad, and what it
observes (names, shapes, values after seeding, reprs, errors, hook calls) must agree."""
import copy
import pickle
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import nbgrad
from torch_compare import both as _both, assert_same, assert_same_error, exc_kind, to_np

torch = pytest.importorskip('torch')


def both(fn, **kw):
    return _both(fn, quiet=True, **kw)


def text_of(lib, value):
    """A repr with the library's name taken out, so torch's and nbgrad's can be compared."""
    return str(value).replace(lib.__name__ + '.', 'LIB.')


class Net:
    """The same model class for both libraries: shared submodule, a buffer, a non-persistent
    buffer, a None parameter and nested containers."""

    @staticmethod
    def make(lib):
        nn = lib.nn

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 3)
                self.register_buffer('running', lib.zeros(3))
                self.register_buffer('scratch', lib.ones(2), persistent=False)
                self.register_parameter('unused', None)

            def forward(self, x):
                return self.fc(x) + self.running

        class Model(nn.Module):
            def __init__(self):
                super().__init__()
                self.block = Block()
                self.shared = nn.Linear(3, 3)
                self.layers = nn.ModuleList([self.shared, nn.Flatten(), self.shared])
                self.heads = nn.ModuleDict({'b': nn.Linear(3, 2), 'a': nn.Identity()})
                self.scale = nn.Parameter(lib.ones(1))

            def forward(self, x):
                x = self.block(x)
                for layer in self.layers:
                    x = layer(x)
                return self.heads['b'](x) * self.scale

        lib.manual_seed(0)
        return Model()


# -- structure and naming -------------------------------------------------------------------------

WALKS = {
    'named_parameters': lambda m: [(k, tuple(v.shape)) for k, v in m.named_parameters()],
    'named_parameters_prefix': lambda m: [k for k, _ in m.named_parameters(prefix='net')],
    'named_parameters_no_recurse': lambda m: [k for k, _ in m.named_parameters(recurse=False)],
    'named_parameters_dupes': lambda m: [k for k, _ in m.named_parameters(
        remove_duplicate=False)],
    'named_buffers': lambda m: [(k, tuple(v.shape)) for k, v in m.named_buffers()],
    'named_modules': lambda m: [(k, type(v).__name__) for k, v in m.named_modules()],
    'named_modules_dupes': lambda m: [k for k, _ in m.named_modules(remove_duplicate=False)],
    'named_children': lambda m: [k for k, _ in m.named_children()],
    'parameters_count': lambda m: len(list(m.parameters())),
    'state_dict': lambda m: [(k, tuple(v.shape)) for k, v in m.state_dict().items()],
    'state_dict_values': lambda m: list(m.state_dict().values()),
    'state_dict_prefix': lambda m: list(m.state_dict(prefix='p.')),
    'dir_has_params': lambda m: [n in dir(m) for n in ('block', 'scale', 'layers', 'forward')],
    'get_submodule': lambda m: type(m.get_submodule('block.fc')).__name__,
    'get_parameter': lambda m: m.get_parameter('block.fc.bias'),
    'get_buffer': lambda m: m.get_buffer('block.running'),
    'get_submodule_missing': lambda m: m.get_submodule('block.nope'),
    'get_parameter_not_param': lambda m: m.get_parameter('block.running'),
    'get_buffer_not_buffer': lambda m: m.get_buffer('block.fc.weight'),
    'get_submodule_not_module': lambda m: m.get_submodule('scale.x'),
}


@pytest.mark.parametrize('walk', WALKS)
def test_walks_and_names(walk):
    both(lambda lib: WALKS[walk](Net.make(lib)))


def test_repr():
    both(lambda lib: text_of(lib, Net.make(lib)))


def test_forward_and_backward_match_after_seeding():
    def run(lib):
        model = Net.make(lib)
        x = lib.linspace(-1, 1, 20).reshape(5, 4)
        out = model(x)
        out.sum().backward()
        return out, [p.grad for p in model.parameters()]
    both(run)


# -- attribute routing and registration errors ---------------------------------------------------

ROUTING = {
    'param_then_plain_tensor': lambda lib, m: setattr(m, 'w', lib.ones(2)) or
    (setattr(m, 'w', lib.nn.Parameter(lib.ones(2))), setattr(m, 'w', lib.ones(2))),
    'param_set_none': lambda lib, m: (setattr(m, 'p', lib.nn.Parameter(lib.ones(1))),
                                      setattr(m, 'p', None), list(m.state_dict())),
    'module_to_tensor': lambda lib, m: (setattr(m, 'sub', lib.nn.Identity()),
                                        setattr(m, 'sub', lib.ones(1))),
    'buffer_to_string': lambda lib, m: (m.register_buffer('b', lib.ones(1)),
                                        setattr(m, 'b', 'text')),
    'buffer_reassign': lambda lib, m: (m.register_buffer('b', lib.ones(1)),
                                       setattr(m, 'b', lib.zeros(2)), list(m.state_dict())),
    'param_moves_to_module': lambda lib, m: (setattr(m, 'x', lib.nn.Parameter(lib.ones(1))),
                                             setattr(m, 'x', lib.nn.Identity()),
                                             [k for k, _ in m.named_parameters()],
                                             [k for k, _ in m.named_children()]),
    'plain_attr_then_param': lambda lib, m: (setattr(m, 'y', 3),
                                             setattr(m, 'y', lib.nn.Parameter(lib.ones(1))),
                                             list(m.state_dict())),
    'register_dotted': lambda lib, m: m.register_parameter('a.b', None),
    'register_empty': lambda lib, m: m.register_buffer('', None),
    'register_existing_attr': lambda lib, m: m.register_parameter('forward', None),
    'register_not_str': lambda lib, m: m.register_buffer(3, None),
    'register_tensor_as_param': lambda lib, m: m.register_parameter('w', lib.ones(1)),
    'register_nonleaf_param': lambda lib, m: m.register_parameter(
        'w', lib.nn.Parameter(lib.ones(1)) * 2),
    'register_buffer_not_tensor': lambda lib, m: m.register_buffer('b', [1.0]),
    'add_module_not_module': lambda lib, m: m.add_module('x', lib.ones(1)),
    'add_module_dotted': lambda lib, m: m.add_module('a.b', lib.nn.Identity()),
    'missing_attribute': lambda lib, m: m.nothing_here,
    'delete_param': lambda lib, m: (setattr(m, 'p', lib.nn.Parameter(lib.ones(1))),
                                    delattr(m, 'p'), list(m.state_dict()), hasattr(m, 'p')),
    'int_param_requires_grad': lambda lib, m: lib.nn.Parameter(lib.ones(2, dtype=lib.long)),
    'int_param_no_grad': lambda lib, m: lib.nn.Parameter(lib.ones(2, dtype=lib.long), False)
    .requires_grad,
}


@pytest.mark.parametrize('case', ROUTING)
def test_attribute_routing(case):
    both(lambda lib: ROUTING[case](lib, lib.nn.Module()))


def test_buffer_class_registers_a_buffer():
    def run(lib):
        m = lib.nn.Module()
        m.a = lib.nn.Buffer(lib.ones(2))
        m.b = lib.nn.Buffer(lib.zeros(1), persistent=False)
        return list(m.state_dict()), [k for k, _ in m.named_buffers()], type(m.a).__name__
    both(run)


def test_parameter_shares_memory_and_reprs():
    def run(lib):
        t = lib.zeros(2, 2)
        p = lib.nn.Parameter(t)
        p.data.add_(1)
        return t, text_of(lib, p), p.is_leaf, p.requires_grad, type(p * 2).__name__
    both(run)


# -- modes, grads, casting -----------------------------------------------------------------------

def test_train_eval_requires_grad_and_zero_grad():
    def run(lib):
        m = Net.make(lib)
        m.eval()
        modes = [sub.training for sub in m.modules()]
        m.train()
        modes += [sub.training for sub in m.modules()]
        m(lib.ones(2, 4)).sum().backward()
        m.zero_grad(set_to_none=False)
        zeros = [p.grad for p in m.parameters()]
        m.zero_grad()
        nones = [p.grad is None for p in m.parameters()]
        m.requires_grad_(False)
        return modes, zeros, nones, [p.requires_grad for p in m.parameters()]
    both(run)


def test_train_refuses_non_bool():
    both(lambda lib: lib.nn.Linear(2, 2).train('yes'))


@pytest.mark.parametrize('cast', ['double', 'half', 'float', 'to_dtype', 'to_tensor', 'to_int'])
def test_casting_keeps_parameter_objects(cast):
    casts = {'double': lambda lib, m: m.double(), 'half': lambda lib, m: m.half(),
             'float': lambda lib, m: m.double().float(),
             'to_dtype': lambda lib, m: m.to(lib.float64),
             'to_tensor': lambda lib, m: m.to(lib.ones(1, dtype=lib.float64)),
             'to_int': lambda lib, m: m.to(lib.int64)}

    def run(lib):
        m = Net.make(lib)
        m.block.register_buffer('count', lib.tensor(3))
        before = [id(p) for p in m.parameters()]
        out = casts[cast](lib, m)
        assert out is m
        assert [id(p) for p in m.parameters()] == before  # an optimizer keeps working
        return [(k, v.dtype) for k, v in m.state_dict().items()]
    both(run, check=lambda got, exp: assert_same([(k, str(d).split('.')[1]) for k, d in got],
                                                 [(k, str(d).split('.')[1]) for k, d in exp]))


def test_to_moves_grads_too():
    def run(lib):
        m = lib.nn.Linear(2, 2)
        m(lib.ones(1, 2)).sum().backward()
        m.double()
        return m.weight.grad.dtype == lib.float64
    both(run)


def test_to_device(device):
    m = nbgrad.nn.Linear(3, 2).to(device)
    assert all(p.device.type == device for p in m.parameters())
    out = m(nbgrad.ones(4, 3, device=device))
    out.sum().backward()
    assert m.weight.grad.device.type == device
    assert m.cpu().weight.device.type == 'cpu'


# -- state dicts -----------------------------------------------------------------------------------

def _torch_state_to(lib, state):
    return OrderedDict((k, lib.tensor(v.detach().numpy())) for k, v in state.items())


def test_load_state_dict_from_torch_gives_torch_outputs():
    torch_model = Net.make(torch)
    state = torch_model.state_dict()
    model = Net.make(nbgrad)
    nbgrad.manual_seed(5)
    for p in model.parameters():
        nbgrad.nn.init.normal_(p)
    result = model.load_state_dict(_torch_state_to(nbgrad, state))
    assert list(result.missing_keys) == [] and list(result.unexpected_keys) == []
    x = np.linspace(-1, 1, 20, dtype=np.float32).reshape(5, 4)
    np.testing.assert_allclose(to_np(model(nbgrad.tensor(x))),
                               to_np(torch_model(torch.tensor(x))), rtol=1e-6, atol=1e-7)


STATE_EDITS = {
    'missing': lambda sd: sd.pop('block.fc.bias'),
    'unexpected': lambda sd: sd.__setitem__('block.extra', sd['scale'] * 0),
    'unexpected_nested': lambda sd: sd.__setitem__('heads.b.weight.x', sd['scale'] * 0),
    'non_persistent_given': lambda sd: sd.__setitem__('block.scratch', sd['scale'] * 0),
    'size_mismatch': lambda sd: sd.__setitem__('block.fc.weight', sd['block.fc.weight'][:2]),
    'not_a_tensor': lambda sd: sd.__setitem__('scale', [1.0]),
    'several': lambda sd: (sd.pop('scale'), sd.__setitem__('zzz', sd['block.running'])),
}


@pytest.mark.parametrize('strict', [True, False], ids=['strict', 'lenient'])
@pytest.mark.parametrize('edit', STATE_EDITS)
def test_load_state_dict_problems(edit, strict):
    """The result (missing/unexpected keys) or the kind of error is PyTorch's; a failed load
    leaves nbgrad's model untouched (PyTorch copies the entries that fit before raising)."""
    def run(lib):
        model = Net.make(lib)
        lib.manual_seed(1)
        source = Net.make(lib).state_dict()
        for v in source.values():
            v.add_(1)
        STATE_EDITS[edit](source)
        before = {k: v.clone() for k, v in model.state_dict().items()}
        try:
            result = model.load_state_dict(source, strict=strict)
        except RuntimeError:
            if lib is nbgrad:
                for k, v in model.state_dict().items():
                    assert (v == before[k]).all(), f'{k} changed by a failed load'
            raise
        return sorted(result.missing_keys), sorted(result.unexpected_keys), \
            [v for k, v in model.state_dict().items()]
    both(run)


def test_load_state_dict_error_message_names_the_problem():
    model = nbgrad.nn.Linear(3, 2)
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict({'weight': nbgrad.ones(2, 4)})
    message = str(info.value)
    assert 'Missing key(s) in state_dict: "bias"' in message
    assert 'size mismatch for weight' in message and '[2, 4]' in message and '[2, 3]' in message


def test_state_dict_keep_vars_and_metadata():
    def run(lib):
        m = Net.make(lib)
        sd = m.state_dict(keep_vars=True)
        detached = m.state_dict()
        return ([v.requires_grad for v in sd.values()], [v.requires_grad for v in detached.values()],
                sd['scale'] is m.scale, dict(sd._metadata))
    both(run)


def test_load_state_dict_assign_and_post_hook():
    def run(lib):
        m = lib.nn.Linear(2, 2)
        seen = []
        m.register_load_state_dict_post_hook(
            lambda module, keys: seen.append((list(keys.missing_keys), list(keys.unexpected_keys))))
        new = {'weight': lib.full((2, 2), 2.0), 'bias': lib.zeros(2)}
        m.load_state_dict(new, assign=True)
        return seen, m.weight, type(m.weight).__name__, m.weight.requires_grad
    both(run)


STATE_EDITS_2 = {
    # a key with no dot named like a child module is not the child's: unexpected
    'child_name_as_key': lambda lib, sd: sd.__setitem__('block', lib.ones(1)),
    # PyTorch 0.3 checkpoints stored scalars as 1-element vectors
    'one_element_into_0_dim': lambda lib, sd: sd.__setitem__('scale', lib.tensor([5.0])),
    'two_elements_into_0_dim': lambda lib, sd: sd.__setitem__('scale', lib.tensor([5.0, 6.0])),
    'a_mapping_not_a_dict': lambda lib, sd: _ReadOnlyMapping(sd),
}


def _ReadOnlyMapping(data):
    """A collections.abc.Mapping over data that is not a dict."""
    from collections.abc import Mapping

    class ReadOnly(Mapping):
        def __getitem__(self, key):
            return data[key]

        def __iter__(self):
            return iter(data)

        def __len__(self):
            return len(data)
    return ReadOnly()


@pytest.mark.parametrize('strict', [True, False], ids=['strict', 'lenient'])
@pytest.mark.parametrize('edit', STATE_EDITS_2)
def test_load_state_dict_key_rules(edit, strict):
    def run(lib):
        model = Net.make(lib)
        source = OrderedDict((k, v + 1) for k, v in Net.make(lib).state_dict().items())
        edited = STATE_EDITS_2[edit](lib, source)
        result = model.load_state_dict(source if edited is None else edited, strict=strict)
        return sorted(result.missing_keys), sorted(result.unexpected_keys), \
            list(model.state_dict().items())
    both(run)


def test_load_state_dict_hooks_order_and_what_they_see():
    """Pre-hooks see only the entries under their module's prefix; post-hooks run after the
    module's subtree has loaded (post-order), see the loaded values, and may clear the missing
    keys in place so that a strict load passes. assign=True reaches local_metadata."""
    def run(lib, assign):
        nn = lib.nn
        lib.manual_seed(0)
        model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 1)))
        calls = []
        for name, module in model.named_modules():
            module.register_load_state_dict_pre_hook(
                lambda mod, sd, prefix, meta, *rest, n=name: calls.append(
                    ('pre', n, sorted(sd), meta.get('assign_to_params_buffers'))))
            module.register_load_state_dict_post_hook(
                lambda mod, keys, n=name: calls.append(
                    ('post', n, [p.detach().clone() for p in mod.parameters()])))

        def forgive_bias(mod, keys):
            keys.missing_keys.remove('1.0.bias')
        model.register_load_state_dict_post_hook(forgive_bias)
        source = {k: v * 0 + 3 for k, v in model.state_dict().items() if k != '1.0.bias'}
        source['junk'] = lib.zeros(1)
        try:
            model.load_state_dict(source, assign=assign)
        except RuntimeError as e:
            calls.append(('error', str(e).split(':')[0]))
        return calls
    for assign in (False, True):
        assert_same(run(nbgrad, assign), run(torch, assign))


def test_failed_load_leaves_the_model_as_it_was():
    """PyTorch copies what matched before raising; nbgrad undoes those copies (and assigned
    objects, and extra state), so a failed load changes nothing."""
    nn = nbgrad.nn
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    objects = list(model.parameters())
    for assign in (False, True):
        bad = {k: nbgrad.zeros_like(v) for k, v in before.items()}
        bad['1.weight'] = nbgrad.ones(5, 5)
        with pytest.raises(RuntimeError, match='size mismatch for 1.weight'):
            model.load_state_dict(bad, assign=assign)
        assert all(a is b for a, b in zip(model.parameters(), objects))
        for k, v in model.state_dict().items():
            np.testing.assert_array_equal(to_np(v), to_np(before[k]))


def test_assign_keeps_the_modules_requires_grad():
    def run(lib):
        m = lib.nn.Linear(2, 2)
        m.bias.requires_grad_(False)
        m.load_state_dict({'weight': lib.ones(2, 2), 'bias': lib.nn.Parameter(lib.zeros(2))},
                          assign=True)
        return m.weight.requires_grad, m.bias.requires_grad, type(m.bias).__name__
    both(run)


def test_extra_state_round_trips():
    def run(lib):
        class WithExtra(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.counter = 7

            def get_extra_state(self):
                return {'counter': self.counter}

            def set_extra_state(self, state):
                self.counter = state['counter']
        a, b = WithExtra(), WithExtra()
        a.counter = 11
        sd = a.state_dict()
        b.load_state_dict(sd)
        return list(sd), b.counter
    both(run)


class PicklableModel(nbgrad.nn.Module):
    """Defined at module level, as pickle needs (Net's classes are local to a function)."""

    def __init__(self):
        super().__init__()
        self.shared = nbgrad.nn.Linear(3, 3)
        self.layers = nbgrad.nn.ModuleList([self.shared, nbgrad.nn.Flatten(), self.shared])
        self.scale = nbgrad.nn.Parameter(nbgrad.ones(1))
        self.register_buffer('running', nbgrad.arange(3.))


def test_deepcopy_and_pickle():
    model = PicklableModel()
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert clone.layers[0] is clone.layers[2] is clone.shared  # sharing survives
        assert clone.shared.weight is not model.shared.weight
        for (k1, v1), (k2, v2) in zip(model.state_dict().items(), clone.state_dict().items()):
            assert k1 == k2 and (v1 == v2).all()
        assert isinstance(clone.scale, nbgrad.nn.Parameter)


# -- hooks -------------------------------------------------------------------------------------------

def test_forward_hooks_order_kwargs_and_removal():
    def run(lib):
        calls = []
        lib.manual_seed(0)
        m = lib.nn.Linear(2, 2)
        h1 = m.register_forward_pre_hook(lambda mod, args: (calls.append('pre'), (args[0] * 2,))[1])
        m.register_forward_pre_hook(lambda mod, args, kwargs: calls.append('pre_kw'),
                                    with_kwargs=True, prepend=True)
        m.register_forward_hook(lambda mod, args, out: calls.append('post') or out + 1)
        h4 = m.register_forward_hook(lambda mod, args, kwargs, out: calls.append('post_kw'),
                                     with_kwargs=True)
        x = lib.ones(1, 2)
        first = m(x)
        h1.remove()
        h4.remove()
        second = m(x)
        return calls, first, second
    both(run)


def test_forward_hook_always_call_runs_on_error():
    def run(lib):
        calls = []

        class Failing(lib.nn.Module):
            def forward(self, x):
                raise ValueError('boom')
        m = Failing()
        m.register_forward_hook(lambda mod, args, out: calls.append('always'), always_call=True)
        m.register_forward_hook(lambda mod, args, out: calls.append('normal'))
        with pytest.raises(ValueError):
            m(lib.ones(1))
        return calls
    both(run)


def test_full_backward_hooks_see_torchs_gradients():
    def run(lib):
        seen = []
        lib.manual_seed(0)
        m = lib.nn.Linear(3, 2)
        with lib.no_grad():
            m.weight.copy_(lib.arange(6.).reshape(2, 3) / 10)
        m.register_full_backward_pre_hook(lambda mod, gout: (seen.append(('pre', gout)),
                                                              (gout[0] * 3,))[1])
        m.register_full_backward_hook(lambda mod, gin, gout: seen.append(('hook', gin, gout)))
        x = lib.ones(4, 3, requires_grad=True)
        (m(x) ** 2).sum().backward()
        return seen, x.grad, m.weight.grad
    both(run)


def test_full_backward_hook_can_replace_grad_input():
    def run(lib):
        lib.manual_seed(0)
        m = lib.nn.Sequential(lib.nn.Linear(2, 2))
        m.register_full_backward_hook(lambda mod, gin, gout: (gin[0] * 0 + 1,))
        x = lib.ones(3, 2, requires_grad=True)
        m(x).sum().backward()
        return x.grad
    both(run)


def test_full_backward_hook_without_input_grads_warns():
    def run(lib):
        seen = []
        lib.manual_seed(0)
        m = lib.nn.Linear(2, 2)
        m.register_full_backward_hook(lambda mod, gin, gout: seen.append((gin, gout)))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            m(lib.ones(1, 2)).sum().backward()
        return seen, any('no inputs require gradients' in str(w.message) for w in caught)
    _both(run)


def test_apply_and_children_order():
    def run(lib):
        names = []
        Net.make(lib).apply(lambda mod: names.append(type(mod).__name__))
        return names
    both(run)


# -- containers --------------------------------------------------------------------------------------

CONTAINER_OPS = {
    'seq_slice': lambda lib, s: text_of(lib, s[1:]),
    'seq_neg_index': lambda lib, s: text_of(lib, s[-1]),
    'seq_out_of_range': lambda lib, s: s[5],
    'seq_del_renumbers': lambda lib, s: (s.__delitem__(0), list(s.state_dict()))[1],
    'seq_del_slice': lambda lib, s: (s.__delitem__(slice(0, 2)), text_of(lib, s))[1],
    'seq_insert': lambda lib, s: text_of(lib, s.insert(1, lib.nn.ReLU())),
    'seq_insert_neg': lambda lib, s: text_of(lib, s.insert(-1, lib.nn.Identity())),
    'seq_insert_bad': lambda lib, s: s.insert(9, lib.nn.Identity()),
    'seq_append_extend': lambda lib, s: text_of(lib, s.append(lib.nn.Identity()).extend(
        [lib.nn.Tanh()])),
    'seq_add': lambda lib, s: text_of(lib, s + lib.nn.Sequential(lib.nn.Identity())),
    'seq_add_bad': lambda lib, s: s + [lib.nn.Identity()],
    'seq_mul': lambda lib, s: list((s * 2).state_dict()),
    'seq_mul_zero': lambda lib, s: s * 0,
    'seq_imul': lambda lib, s: len(s.__imul__(3)),
    'seq_pop': lambda lib, s: (text_of(lib, s.pop(1)), len(s)),
    'seq_setitem': lambda lib, s: (s.__setitem__(-1, lib.nn.Identity()), text_of(lib, s))[1],
    'seq_ordered_dict': lambda lib, s: text_of(lib, lib.nn.Sequential(OrderedDict(
        [('first', lib.nn.Linear(1, 2)), ('act', lib.nn.Tanh())]))),
    'seq_forward': lambda lib, s: s(lib.linspace(-1, 1, 6).reshape(2, 3)),
    'list_ops': lambda lib, s: _list_ops(lib),
    'list_repr_runs': lambda lib, s: text_of(lib, lib.nn.ModuleList(
        [lib.nn.Tanh(), lib.nn.Tanh(), lib.nn.Identity(), lib.nn.Tanh(), lib.nn.Tanh()])),
    'list_extend_bad': lambda lib, s: lib.nn.ModuleList().extend(3),
    'list_index_error': lambda lib, s: lib.nn.ModuleList([lib.nn.Tanh()])[-2],
    'dict_ops': lambda lib, s: _dict_ops(lib),
    'dict_update_pairs_bad': lambda lib, s: lib.nn.ModuleDict().update([('a',)]),
    'param_list': lambda lib, s: _param_list(lib),
    'param_dict': lambda lib, s: _param_dict(lib),
    'param_dict_int_key': lambda lib, s: lib.nn.ParameterDict()[0],
    'param_list_call': lambda lib, s: lib.nn.ParameterList()(1),
}


def _list_ops(lib):
    ml = lib.nn.ModuleList([lib.nn.Linear(1, 1), lib.nn.Tanh()])
    ml.append(lib.nn.Identity())
    ml.insert(1, lib.nn.Sigmoid())
    ml += [lib.nn.ReLU()]
    del ml[0]
    both_slices = ml[1:3]
    popped = ml.pop(-1)
    return text_of(lib, ml), text_of(lib, both_slices), text_of(lib, popped), \
        text_of(lib, ml + lib.nn.ModuleList([lib.nn.Tanh()])), len(ml)


def _dict_ops(lib):
    md = lib.nn.ModuleDict({'z': lib.nn.Tanh(), 'a': lib.nn.Linear(1, 1)})
    md.update([('m', lib.nn.Identity())])
    md['b'] = lib.nn.ReLU()
    popped = md.pop('z')
    return text_of(lib, md), list(md.keys()), 'a' in md, text_of(lib, popped), \
        list(md.state_dict())


def _param_list(lib):
    pl = lib.nn.ParameterList([lib.ones(2, 3), lib.nn.Parameter(lib.zeros(1))])
    pl.append(lib.ones(4, dtype=lib.float64))
    pl.extend([lib.zeros(2)])
    pl[0] = lib.full((2,), 3.0)
    return text_of(lib, pl), [type(p).__name__ for p in pl], list(pl.state_dict()), \
        text_of(lib, pl[1:])


def _param_dict(lib):
    pd = lib.nn.ParameterDict({'b': lib.ones(2), 'a': lib.nn.Parameter(lib.zeros(3))})
    pd['c'] = lib.ones(1, dtype=lib.float64)
    pd.setdefault('d', lib.zeros(2))
    popped = pd.pop('b')
    merged = pd | lib.nn.ParameterDict({'e': lib.ones(1)})
    return text_of(lib, pd), list(pd.keys()), list(pd.state_dict()), popped, \
        list(merged.keys()), 'a' in pd, pd.get('zz', 5)


@pytest.mark.parametrize('op', CONTAINER_OPS)
def test_containers(op):
    def run(lib):
        lib.manual_seed(0)
        seq = lib.nn.Sequential(lib.nn.Linear(3, 2), lib.nn.Tanh(), lib.nn.Linear(2, 2))
        return CONTAINER_OPS[op](lib, seq)
    both(run)


# -- Linear, Bilinear, Flatten, F.linear ------------------------------------------------------------

LINEAR_CASES = {
    'linear_2d': lambda lib: (lib.nn.Linear(4, 3), [(5, 4)]),
    'linear_1d': lambda lib: (lib.nn.Linear(4, 3), [(4,)]),
    'linear_3d': lambda lib: (lib.nn.Linear(4, 3), [(2, 5, 4)]),
    'linear_no_bias_2d': lambda lib: (lib.nn.Linear(4, 3, bias=False), [(5, 4)]),
    'linear_no_bias_1d': lambda lib: (lib.nn.Linear(4, 3, bias=False), [(4,)]),
    'linear_no_bias_3d': lambda lib: (lib.nn.Linear(4, 3, bias=False), [(2, 5, 4)]),
    'linear_empty_batch': lambda lib: (lib.nn.Linear(4, 3), [(0, 4)]),
    'linear_double': lambda lib: (lib.nn.Linear(4, 3, dtype=lib.float64), [(5, 4)]),
    'bilinear': lambda lib: (lib.nn.Bilinear(3, 4, 2), [(5, 3), (5, 4)]),
    'bilinear_no_bias': lambda lib: (lib.nn.Bilinear(3, 4, 2, bias=False), [(2, 5, 3), (2, 5, 4)]),
    'flatten': lambda lib: (lib.nn.Flatten(), [(2, 3, 4)]),
    'flatten_dims': lambda lib: (lib.nn.Flatten(0, 1), [(2, 3, 4)]),
    'unflatten': lambda lib: (lib.nn.Unflatten(1, (2, 2)), [(3, 4)]),
    'identity': lambda lib: (lib.nn.Identity(54, unused='x'), [(2, 2)]),
}


@pytest.mark.parametrize('case', LINEAR_CASES)
def test_layers_match_torch(case):
    def run(lib):
        lib.manual_seed(3)
        layer, shapes = LINEAR_CASES[case](lib)
        dtype = next(iter(layer.parameters())).dtype if list(layer.parameters()) else lib.float32
        inputs = [lib.linspace(-2, 2, int(np.prod(s)), dtype=dtype).reshape(s).requires_grad_()
                  for s in shapes]
        out = layer(*inputs)
        out.pow(2).sum().backward()
        # grad_fn names are compared for Linear only (nbgrad's bilinear is one einsum node)
        fn = out.grad_fn if case.startswith('linear') else None
        grad_fn = None if fn is None else fn.name() if lib is nbgrad else type(fn).__name__
        return (text_of(lib, layer), out, [x.grad for x in inputs],
                [p.grad for p in layer.parameters()], grad_fn)
    both(run, check=lambda got, exp: assert_same(got, exp, rtol=2e-6, atol=1e-6))


LINEAR_ERRORS = {
    'in_features': lambda lib: lib.nn.Linear(4, 3)(lib.ones(2, 5)),
    'in_features_1d': lambda lib: lib.nn.Linear(4, 3)(lib.ones(5)),
    'dtype': lambda lib: lib.nn.Linear(4, 3)(lib.ones(2, 4, dtype=lib.float64)),
    'scalar_input': lambda lib: lib.nn.Linear(4, 3)(lib.tensor(1.0)),
    'not_tensor': lambda lib: lib.nn.functional.linear([1.0], lib.ones(2, 1)),
    'bias_shape': lambda lib: lib.nn.functional.linear(lib.ones(2, 4), lib.ones(3, 4),
                                                       lib.ones(5)),
    'bilinear_batch': lambda lib: lib.nn.Bilinear(3, 4, 2)(lib.ones(5, 3), lib.ones(4, 4)),
    'bilinear_zero_in': lambda lib: lib.nn.Bilinear(0, 4, 2),
    'unflatten_bad_size': lambda lib: lib.nn.Unflatten(1, 4),
}


@pytest.mark.parametrize('case', LINEAR_ERRORS)
def test_layer_errors(case):
    both(lambda lib: LINEAR_ERRORS[case](lib))


def test_linear_error_names_both_shapes():
    with pytest.raises(RuntimeError, match=r'\(2x5 and 4x3\)'):
        nbgrad.nn.Linear(4, 3)(nbgrad.ones(2, 5))


@pytest.mark.parametrize('shape', [(4,), (3, 4), (2, 3, 4)])
@pytest.mark.parametrize('bias', [True, False])
def test_linear_gradcheck_and_gradgradcheck(shape, bias):
    nbgrad.manual_seed(0)
    x = nbgrad.randn(*shape, dtype=nbgrad.float64, requires_grad=True)
    w = nbgrad.randn(5, 4, dtype=nbgrad.float64, requires_grad=True)
    args = (x, w) + ((nbgrad.randn(5, dtype=nbgrad.float64, requires_grad=True),) if bias else ())
    assert nbgrad.autograd.gradcheck(nbgrad.nn.functional.linear, args)
    assert nbgrad.autograd.gradgradcheck(nbgrad.nn.functional.linear, args)


def test_bilinear_gradcheck():
    nbgrad.manual_seed(0)
    args = [nbgrad.randn(*s, dtype=nbgrad.float64, requires_grad=True)
            for s in [(3, 2), (3, 4), (5, 2, 4), (5,)]]
    assert nbgrad.autograd.gradcheck(nbgrad.nn.functional.bilinear, args)


def test_linear_on_device(device):
    def run(lib):
        dev = device if lib is nbgrad else 'cpu'
        lib.manual_seed(0)
        layer = lib.nn.Linear(4, 3)
        layer.to(dev)
        x = lib.linspace(-1, 1, 8, device=dev).reshape(2, 4).requires_grad_()
        out = layer(x)
        out.sum().backward()
        return out.cpu(), x.grad.cpu(), layer.weight.grad.cpu(), layer.bias.grad.cpu()
    both(run)


def test_module_errors_are_clear():
    class NoForward(nbgrad.nn.Module):
        pass
    with pytest.raises(NotImplementedError, match='forward'):
        NoForward()(1)
    with pytest.raises(TypeError, match="parameter 'weight'"):
        nbgrad.nn.Linear(2, 2).weight = nbgrad.ones(2, 2)
    with pytest.raises(exc_kind(AttributeError())):
        class Early(nbgrad.nn.Module):
            def __init__(self):
                self.w = nbgrad.nn.Parameter(nbgrad.ones(1))
                super().__init__()
        Early()


@pytest.mark.parametrize('sizes', [(4, 0), (0, 3), (0, 0)], ids=str)
@pytest.mark.parametrize('create_graph', [False, True])
def test_linear_with_zero_features(sizes, create_graph):
    """Layers of zero input or output features (AdaptiveLogSoftmaxWithLoss makes them): values
    and gradients as PyTorch's, with and without a graph of the backward."""
    def run(lib):
        lib.manual_seed(0)
        layer = lib.nn.Linear(*sizes)
        x = lib.ones(2, 3, sizes[0], requires_grad=True)
        out = layer(x)
        grads = lib.autograd.grad((out * 2).sum() + x.sum(), [x, *layer.parameters()],
                                  create_graph=create_graph)
        return tuple(out.shape), [g.detach() for g in grads]
    both(run)


def test_deepcopy_of_a_parameter_leaves_its_grad_behind():
    def run(lib):
        layer = lib.nn.Linear(1, 1)
        layer.weight.grad = lib.ones(1, 1)
        plain = lib.ones(2, requires_grad=True)
        plain.grad = lib.ones(2)
        return (copy.deepcopy(layer).weight.grad, copy.deepcopy(layer.weight).grad,
                copy.deepcopy(plain).grad)
    both(run)


MODULE_MISUSE = {
    'set_submodule_over_a_buffer': lambda lib: _with_buffer(lib).set_submodule(
        'buf', lib.nn.Tanh()),
    'set_submodule_not_a_module': lambda lib: _with_buffer(lib).set_submodule('nope.x', 3),
    'requires_grad_int': lambda lib: lib.nn.Linear(1, 1).requires_grad_(0),
    'tensor_requires_grad_none': lambda lib: lib.ones(1).requires_grad_(None),
    'tensor_requires_grad_attribute_int': lambda lib: setattr(lib.ones(1), 'requires_grad', 1),
    'state_dict_post_hook_returns': lambda lib: _hooked_state_dict(lib),
    'empty_parameter_name': lambda lib: lib.nn.Linear(1, 1).get_parameter(''),
    'empty_buffer_name': lambda lib: lib.nn.Linear(1, 1).get_buffer(''),
    'module_init_positional': lambda lib: lib.nn.Module(3),
    'module_init_keyword': lambda lib: lib.nn.Module(size=3),
    'old_then_full_backward_hook': lambda lib: _both_backward_hooks(lib, full_first=False),
    'full_then_old_backward_hook': lambda lib: _both_backward_hooks(lib, full_first=True),
}


def _with_buffer(lib):
    m = lib.nn.Module()
    m.register_buffer('buf', lib.zeros(1))
    return m


def _hooked_state_dict(lib):
    m = lib.nn.Linear(1, 1)
    m.register_state_dict_post_hook(lambda *args: {'x': 1})
    return m.state_dict()


def _both_backward_hooks(lib, full_first):
    m = lib.nn.Linear(2, 1)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        if full_first:
            m.register_full_backward_hook(lambda *a: None)
            m.register_backward_hook(lambda *a: None)
        else:
            m.register_backward_hook(lambda *a: None)
            m.register_full_backward_hook(lambda *a: None)


@pytest.mark.parametrize('case', MODULE_MISUSE)
def test_module_misuse_raises_pytorchs_error(case):
    assert_same_error(MODULE_MISUSE[case])


def test_private_state_dict_hook_may_replace_the_result():
    def run(lib):
        m = lib.nn.Linear(1, 1)
        m._register_state_dict_hook(lambda *args: {'x': 1})
        return m.state_dict()
    both(run)


def test_a_module_pickled_without_newer_registries_still_works():
    def run(lib):
        lib.manual_seed(0)      # (the same weights whatever ran before)
        layer = lib.nn.Linear(1, 1)
        state = layer.__getstate__()
        for name in ('_forward_hooks_always_called', '_forward_hooks_with_kwargs',
                     '_backward_pre_hooks', '_is_full_backward_hook'):
            state.pop(name, None)
        restored = lib.nn.Linear.__new__(lib.nn.Linear)
        restored.__setstate__(state)
        restored.register_forward_hook(lambda *a: None)
        restored.register_full_backward_hook(lambda *a: None)
        return restored(lib.ones(1))
    both(run)


def test_backward_hooks_see_none_for_outputs_that_got_no_gradient():
    def run(lib):
        class TwoOutputs(lib.nn.Module):
            def forward(self, a):
                return a * 2, a * 3
        seen = []
        m = TwoOutputs()
        m.register_full_backward_pre_hook(lambda mod, go: seen.append(('pre', go)))
        m.register_full_backward_hook(lambda mod, gi, go: seen.append(('full', gi, go)))
        a = lib.ones(1, requires_grad=True)
        m(a)[0].sum().backward()
        return seen, a.grad
    both(run)


def test_global_forward_hook_with_kwargs_and_always_call():
    def run(lib):
        calls = []
        module_api = lib.nn.modules.module
        layer = lib.nn.Linear(2, 1)
        with_kwargs = module_api.register_module_forward_hook(
            lambda m, args, kwargs, out: calls.append(('kw', type(m).__name__, sorted(kwargs))),
            with_kwargs=True)
        always = module_api.register_module_forward_hook(
            lambda m, args, out: calls.append(('always', type(m).__name__)), always_call=True)
        try:
            layer(lib.ones(2))
            try:
                layer(lib.ones(3))          # forward raises: the always_call hook still runs
            except RuntimeError:
                calls.append('raised')
        finally:
            with_kwargs.remove()
            always.remove()
        layer(lib.ones(2))                  # removed: no more calls
        return calls, isinstance(always, lib.utils.hooks.RemovableHandle)
    both(run)


def test_utils_hooks_warn_for_tensor_hooks_that_are_not_marked():
    def run(lib):
        leaf = lib.ones(2, requires_grad=True)
        inner = leaf * 2
        leaf.register_hook(lambda g: g)
        inner.register_hook(lib.utils.hooks.unserializable_hook(lambda g: g))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            lib.utils.hooks.warn_if_has_hooks(leaf)
            lib.utils.hooks.warn_if_has_hooks(inner)
        return [str(w.message).split(' on tensor')[1] for w in caught]
    both(run)
