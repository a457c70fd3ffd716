"""Data porting sweep (see data_sweep_common.py): default_collate, default_convert and collate."""
from data_sweep_common import *  # noqa: F401,F403 (the harness and helpers)


# ======================================================================================
# default_collate / default_convert / collate
# ======================================================================================

def dc(lib):
    return lib.utils.data.default_collate


def dconv(lib):
    return lib.utils.data.default_convert


@case
def collate_tensors(lib):
    return dc(lib)([lib.tensor([1, 2]), lib.tensor([3, 4])])


@case
def collate_tensors_dtype(lib):
    return dc(lib)([lib.zeros(2, dtype=lib.float16), lib.ones(2, dtype=lib.float16)])


@case
def collate_tensors_0d(lib):
    return dc(lib)([lib.tensor(1.5), lib.tensor(2.5)])


@case
def collate_tensors_shape_mismatch(lib):
    return excname(lambda: dc(lib)([lib.zeros(2), lib.zeros(3)]))


@case
def collate_numpy_arrays(lib):
    return dc(lib)([np.array([1, 2], dtype=np.int32), np.array([3, 4], dtype=np.int32)])


@case
def collate_numpy_0d_arrays(lib):
    return dc(lib)([np.array(1.5), np.array(2.5)])


@case
def collate_numpy_float32_scalars(lib):
    return dc(lib)([np.float32(1.5), np.float32(2.5)])


@case
def collate_numpy_mixed_scalars(lib):
    return dc(lib)([np.float32(1.5), np.float64(2.5)])


@case
def collate_numpy_int_scalars(lib):
    return dc(lib)([np.int8(1), np.int8(-3)]), dc(lib)([np.uint8(1), np.uint8(200)])


@case
def collate_numpy_bool_scalars(lib):
    return dc(lib)([np.bool_(True), np.bool_(False)])


@case
def collate_numpy_str_array_error(lib):
    return dc(lib)([np.array(['a']), np.array(['b'])])


@case
def collate_numpy_obj_array_error(lib):
    return dc(lib)([np.array([None]), np.array([1], dtype=object)])


@case
def collate_numpy_str_scalar(lib):
    return excname(lambda: dc(lib)([np.str_('a'), np.str_('b')]))


@case
def collate_python_floats(lib):
    return dc(lib)([1.0, 2.5])


@case
def collate_python_ints(lib):
    return dc(lib)([1, 2, 3])


@case
def collate_python_bools(lib):
    return dc(lib)([True, False])


@case
def collate_int_then_float(lib):
    return dc(lib)([1, 2.5])


@case
def collate_float_then_int(lib):
    return dc(lib)([1.5, 2])


@case
def collate_big_int(lib):
    return dc(lib)([2 ** 40, -1])


@case
def collate_int_overflow(lib):
    return excname(lambda: dc(lib)([2 ** 70, 1]))


@case
def collate_strings(lib):
    return dc(lib)(['a', 'bc']), dc(lib)([b'x', b'yz'])


@case
def collate_none_error(lib):
    return dc(lib)([None, None])


@case
def collate_object_error(lib):
    return dc(lib)([object(), object()])


@case
def collate_set_error(lib):
    return dc(lib)([{1}, {2}])


@case
def collate_dicts(lib):
    return dc(lib)([{'a': 1, 'b': lib.tensor([1.0])}, {'a': 2, 'b': lib.tensor([2.0])}])


@case
def collate_ordered_dict(lib):
    return dc(lib)([collections.OrderedDict(b=1, a=2.0), collections.OrderedDict(b=3, a=4.0)])


@case
def collate_defaultdict(lib):
    d1 = collections.defaultdict(list, {'x': 1})
    d2 = collections.defaultdict(list, {'x': 2})
    out = dc(lib)([d1, d2])
    return type(out).__name__, out.default_factory is list, out['x']


@case
def collate_dict_subclass_attrs(lib):
    class MyDict(dict):
        pass

    a = MyDict(k=1)
    a.meta = 'm'
    b = MyDict(k=2)
    b.meta = 'n'
    return dc(lib)([a, b])


@case
def collate_immutable_mapping(lib):
    import types
    out = dc(lib)([types.MappingProxyType({'a': 1}), types.MappingProxyType({'a': 2})])
    return type(out).__name__, dict(out)


@case
def collate_tuples(lib):
    return dc(lib)([(1, 'a', 2.0), (3, 'b', 4.0)])


@case
def collate_lists(lib):
    return dc(lib)([[1, 2], [3, 4]])


@case
def collate_lists_unequal(lib):
    return dc(lib)([[1, 2], [3]])


@case
def collate_namedtuple(lib):
    return dc(lib)([Point(1, lib.tensor([1.0])), Point(2, lib.tensor([2.0]))])


@case
def collate_nested(lib):
    s = lambda i: {'img': np.full((2, 2), i, dtype=np.float32),  # noqa: E731
                   'meta': (i, f'id{i}', [i * 1.5, {'deep': np.int64(i)}]),
                   'pt': Point(i, (i, i))}
    return dc(lib)([s(0), s(1), s(2)])


@case
def collate_userlist(lib):
    return dc(lib)([collections.UserList([1, 2]), collections.UserList([3, 4])])


@case
def collate_range_sequence(lib):
    return dc(lib)([range(2), range(2)])


@case
def collate_custom_sequence_immutable(lib):
    class Seq(collections.abc.Sequence):
        def __init__(self, data):
            self.data = list(data)

        def __getitem__(self, i):
            return self.data[i]

        def __len__(self):
            return len(self.data)

    out = dc(lib)([Seq([1, 2]), Seq([3, 4])])
    return type(out).__name__, [norm(v) for v in out]


@case
def collate_empty_batch(lib):
    return excname(lambda: dc(lib)([]))


@case
def collate_dict_missing_key(lib):
    return excname(lambda: dc(lib)([{'a': 1}, {'b': 2}]))


@case
def collate_mixed_tensor_and_number(lib):
    return excname(lambda: dc(lib)([lib.tensor(1.0), 2.0]))


@case
def collate_tensor_and_numpy(lib):
    return excname(lambda: dc(lib)([lib.tensor([1.0]), np.array([2.0])]))


@case
def convert_numpy(lib):
    return dconv(lib)(np.array([1.0, 2.0], dtype=np.float32))


@case
def convert_numpy_scalar(lib):
    return dconv(lib)(np.float64(3.5)), dconv(lib)(np.int32(3)), dconv(lib)(np.bool_(True))


@case
def convert_numpy_str(lib):
    return dconv(lib)(np.array(['a', 'b'])), dconv(lib)(np.str_('x'))


@case
def convert_numpy_bytes_scalar(lib):
    return excname(lambda: dconv(lib)(np.bytes_(b'x')))


@case
def convert_python(lib):
    return dconv(lib)(3), dconv(lib)(2.5), dconv(lib)('s'), dconv(lib)(b'b'), dconv(lib)(None)


@case
def convert_containers(lib):
    return dconv(lib)({'a': np.array([1]), 'b': (np.int64(2), [np.float32(1.0), 'x'])})


@case
def convert_namedtuple(lib):
    return dconv(lib)(Point(np.array([1.0]), 3))


@case
def convert_tensor_identity(lib):
    t = lib.tensor([1, 2])
    return dconv(lib)(t) is t


@case
def convert_range(lib):
    return dconv(lib)(range(3))


@case
def convert_userlist(lib):
    return dconv(lib)(collections.UserList([np.int64(1), 2]))


@case
def convert_ordered_dict(lib):
    return dconv(lib)(collections.OrderedDict(z=np.zeros(1), a=1))


@case
def convert_numpy_memmap_like_subclass(lib):
    class Arr(np.ndarray):
        pass

    a = np.arange(3).view(Arr)
    return dconv(lib)(a)


@case
def collate_custom_map(lib):
    C = lib.utils.data._utils.collate

    def int_fn(batch, *, collate_fn_map=None):
        return ('ints', sum(batch))

    return C.collate([(1, 'a'), (2, 'b')], collate_fn_map={int: int_fn})


@case
def collate_custom_map_none(lib):
    C = lib.utils.data._utils.collate
    return excname(lambda: C.collate([1, 2], collate_fn_map=None))


@case
def collate_custom_map_extends_default(lib):
    C = lib.utils.data._utils.collate

    class Box:
        def __init__(self, v):
            self.v = v

    def box_fn(batch, *, collate_fn_map=None):
        return [b.v * 2 for b in batch]

    m = dict(C.default_collate_fn_map)
    m[Box] = box_fn
    return C.collate([{'b': Box(1), 't': lib.tensor([1])}, {'b': Box(2), 't': lib.tensor([2])}],
                     collate_fn_map=m)


@case
def collate_custom_map_tuple_key_subclass(lib):
    C = lib.utils.data._utils.collate

    class MyInt(int):
        pass

    def fn(batch, *, collate_fn_map=None):
        return 'numbers'

    return C.collate([MyInt(1), MyInt(2)], collate_fn_map={(float, int): fn})


@case
def collate_custom_map_exact_before_isinstance(lib):
    C = lib.utils.data._utils.collate
    return C.collate([True, False], collate_fn_map={int: lambda b, **k: 'int',
                                                     bool: lambda b, **k: 'bool'})


@case
def collate_fn_map_default_contents(lib):
    m = lib.utils.data._utils.collate.default_collate_fn_map
    return sorted(k.__name__ if isinstance(k, type) else str([x.__name__ for x in k])
                  for k in m)


@case
def collate_module_functions(lib):
    C = lib.utils.data._utils.collate
    return (C.collate_int_fn([1, 2]), C.collate_float_fn([1, 2]), C.collate_str_fn(['a']),
            C.collate_numpy_scalar_fn([np.float32(1)]),
            C.collate_numpy_array_fn([np.zeros(2), np.ones(2)],
                                     collate_fn_map=C.default_collate_fn_map),
            C.collate_tensor_fn([lib.ones(1), lib.ones(1)]))


@case
def collate_err_msg_format(lib):
    return lib.utils.data._utils.collate.default_collate_err_msg_format


@case
def dataloader_module_default_collate(lib):
    return (lib.utils.data.dataloader.default_collate is lib.utils.data.default_collate,
            lib.utils.data.dataloader.default_convert is lib.utils.data.default_convert,
            lib.utils.data.dataloader.get_worker_info is lib.utils.data.get_worker_info)


@case
def get_worker_info_main_process(lib):
    return lib.utils.data.get_worker_info()


@case
def all_exports(lib):
    names = ['BatchSampler', 'ChainDataset', 'ConcatDataset', 'DataLoader', 'Dataset',
             'DistributedSampler', 'IterableDataset', 'RandomSampler', 'Sampler',
             'SequentialSampler', 'StackDataset', 'Subset', 'SubsetRandomSampler',
             'TensorDataset', 'WeightedRandomSampler', 'default_collate', 'default_convert',
             'get_worker_info', 'random_split']
    return [n for n in names if not hasattr(lib.utils.data, n)]


@case
def submodule_paths(lib):
    d = lib.utils.data
    return (d.sampler.RandomSampler is d.RandomSampler, d.dataset.Subset is d.Subset,
            d.dataloader.DataLoader is d.DataLoader)


# (the module's cases, run with both libraries and compared)
test_same_as_torch = sweep_test(__name__)
