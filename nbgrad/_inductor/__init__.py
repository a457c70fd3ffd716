"""torch._inductor: the config scripts set (torch._inductor.config.fallback_random = True,
config.triton.cudagraphs...). nbgrad has no compiler: the settings are kept and read back."""
from .. import _config_module

config = _config_module.install(__name__ + '.config', {
    'fallback_random': False, 'freezing': False, 'max_autotune': False,
    'max_autotune_gemm': False, 'max_autotune_pointwise': False,
    'coordinate_descent_tuning': False, 'epilogue_fusion': True, 'aggressive_fusion': False,
    'compile_threads': 1, 'debug': False, 'benchmark_kernel': False, 'shape_padding': True,
    'force_fuse_int_mm_with_mul': False, 'use_mixed_mm': True, 'conv_1x1_as_mm': False,
    'split_reductions': True, 'layout_optimization': True, 'keep_output_stride': True,
    'size_asserts': True, 'nan_asserts': False, 'emulate_precision_casts': False,
    'triton': {'cudagraphs': False, 'cudagraph_trees': True, 'unique_kernel_names': True,
               'descriptive_names': 'original_aten', 'max_tiles': 2, 'autotune_pointwise': True},
    'cpp': {'threads': -1, 'simdlen': None, 'enable_kernel_profile': False,
            'weight_prepack': True},
    'trace': {'enabled': False, 'debug_dir': None},
})
