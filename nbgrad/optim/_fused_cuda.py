"""Fused CUDA update kernels: one launch updates every parameter of a bucket in place, reaching
each parameter, grad and state through a table of device pointers (PyTorch's fused optimizers and
multi_tensor_apply). An optimizer that has one (its `fused_cuda` attribute: SGD, Adam and AdamW)
skips _multi_tensor's gather, generic kernel and scatter for float32 and float64 parameters; the
other optimizers, and float16 parameters, take the generic path.

A kernel is a C++ body run once per element, written against PyTorch's formulas: `p`, `g` and
`s0`, `s1`... point at the element of the param, its grad and its states; the optimizer's
settings arrive as kernel arguments in `scalars` order (PyTorch computes float32 parameters in
float32 too, so the body works in the parameter's type T).
"""
import numpy as np

from .._cuda_kernels import KernelFamily
from .._pointer_tables import FOR_EACH_ELEMENT, upload_table

_TEMPLATE = r'''
#define N_STATES %(n_states)d
extern "C" __global__ void %(name)s(
        const unsigned long long* pointers, const long long* starts, int n_arrays,
        long long total, %(scalars)s) {%(for_each_element)s
        T* p = (T*)pointers[lo] + j;
        const T* g = (const T*)pointers[n_arrays + lo] + j;
%(states)s
%(body)s
    }
}
'''
_C_TYPES = {'i': 'int', 'd': 'double'}


class FusedKernel:
    """A fused update: `scalars` is [(C name, 'i' for int or 'd' for double)], `arguments(cfg)`
    gives their values from the optimizer's kernel cfg in that order."""

    def __init__(self, name, scalars, body, arguments):
        self.name, self.scalars, self.body, self.arguments = name, scalars, body, arguments
        # a compiler that refuses the kernel must not stop training: the generic path gives the
        # same numbers, in a few more launches
        self.kernels = KernelFamily('fused optimizer',
                                    'the optimizer takes its generic multi-tensor path')
        self._sources = {}      # per number of state arrays

    def supports(self, xp, dtype):
        return self.kernels.available(xp, dtype)

    def _source(self, n_states):
        source = self._sources.get(n_states)
        if source is None:
            source = self._sources[n_states] = self._make_source(n_states)
        return source

    def _make_source(self, n_states):
        states = '\n'.join(f'        T* s{r} = (T*)pointers[{r + 2} * n_arrays + lo] + j;'
                           for r in range(n_states))
        return _TEMPLATE % {
            'n_states': n_states, 'name': self.name, 'for_each_element': FOR_EACH_ELEMENT,
            'scalars': ', '.join(f'{_C_TYPES[kind]} {name}' for name, kind in self.scalars),
            'states': states, 'body': self.body}

    def launch(self, xp, members, cfg):
        """Update the parameters of members [(param, grad, state...)] (same dtype, C-contiguous,
        on the current device) in one launch; False, changing nothing, if the kernel failed to
        compile (warned once; the caller takes the generic path)."""
        n_roles = len(members[0])
        sizes = [arrays[0].size for arrays in members]
        table = upload_table(xp, [arrays[role] for role in range(n_roles) for arrays in members],
                             sizes)
        n, total = len(members), sum(sizes)
        values = [np.int32(v) if kind == 'i' else np.float64(v)
                  for (_, kind), v in zip(self.scalars, self.arguments(cfg))]
        return self.kernels.launch(
            xp, self.name, self._source(n_roles - 2), members[0][0].dtype, total,
            (table[:n_roles * n], table[n_roles * n:], np.int32(n), np.int64(total), *values))


# Adam and AdamW (Adam with decoupled weight decay), PyTorch's formulation, as Adam.kernel:
# exp_avg.lerp_(grad, 1 - beta1) (lerp's two formulas), exp_avg_sq = beta2 * exp_avg_sq +
# (1 - beta2) * grad^2, v = its running maximum with amsgrad, and
# param -= step_size * exp_avg / (sqrt(v) / bc2_sqrt + eps), multiplied through by bc2_sqrt.
ADAM = FusedKernel(
    'nbgrad_fused_adam',
    [('maximize', 'i'), ('decoupled', 'i'), ('beta1', 'd'), ('beta2', 'd'), ('eps', 'd'),
     ('weight_decay', 'd'), ('lr', 'd'), ('step_size', 'd'), ('bc2_sqrt', 'd')],
    r'''
        T grad = maximize ? -*g : *g;
        T param = *p;
        if (weight_decay != 0) {
            if (decoupled) param *= (T)(1 - lr * weight_decay);
            else grad += (T)weight_decay * param;
        }
        T w = (T)(1 - beta1), m = *s0;
        m = fabs((double)w) < 0.5 ? m + w * (grad - m) : grad - (grad - m) * (T)(1 - (1 - beta1));
        *s0 = m;
        T v = *s1 * (T)beta2 + grad * (T)(1 - beta2) * grad;
        *s1 = v;
#if N_STATES > 2
        v = (*s2 != *s2 || *s2 > v) ? *s2 : v;     // amsgrad: NaN-propagating maximum
        *s2 = v;
#endif
        *p = param + (T)(-(step_size * bc2_sqrt)) * m / (sqrt(v) + (T)(eps * bc2_sqrt));
''',
    lambda cfg: (cfg[6], cfg[5], cfg[1], cfg[2], cfg[3], cfg[4], cfg[7], cfg[8], cfg[9]))


# SGD, PyTorch's formulation, as SGD.kernel: with momentum, buf = grad on the first step, else
# buf = momentum * buf + (1 - dampening) * grad; the step is lr * buf, or lr * (grad +
# momentum * buf) with nesterov.
SGD = FusedKernel(
    'nbgrad_fused_sgd',
    [('maximize', 'i'), ('nesterov', 'i'), ('first', 'i'), ('lr', 'd'), ('momentum', 'd'),
     ('dampening', 'd'), ('weight_decay', 'd')],
    r'''
        T grad = maximize ? -*g : *g;
        if (weight_decay != 0) grad += (T)weight_decay * *p;
#if N_STATES > 0
        T buf;
        if (first) buf = grad;
        else if (dampening != 0) buf = *s0 * (T)momentum + grad * (T)(1 - dampening);
        else buf = *s0 * (T)momentum + grad;
        *s0 = buf;
        grad = nesterov ? grad + buf * (T)momentum : buf;
#endif
        *p -= grad * (T)lr;
''',
    lambda cfg: (cfg[5], cfg[3], cfg[6], cfg[0], cfg[1], cfg[2], cfg[4]))
