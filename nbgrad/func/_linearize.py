"""torch.func.linearize and torch.func.functionalize, for an engine that runs eagerly.

linearize(func, *primals) gives func's output at primals and a function of tangents computing
the Jacobian-vector product there (func's jvp; PyTorch traces the linearised graph once and
replays it, nbgrad differentiates again for each call: the same values). functionalize(func)
removes mutations from a traced program; run eagerly, the function it returns computes what
func computes, mutations of its inputs included, as PyTorch's functionalized function does.
"""
import functools


def linearize(func, *primals):
    from . import jvp
    output = func(*primals)

    def jvp_fn(*tangents):
        if len(tangents) != len(primals):
            raise RuntimeError(f'linearize: expected {len(primals)} tangents, one for each '
                               f'primal, but got {len(tangents)}')
        return jvp(func, primals, tangents)[1]
    return output, jvp_fn


def functionalize(func, *, remove='mutations'):
    if remove not in ('mutations', 'mutations_and_views'):
        raise RuntimeError(f"functionalize(f, remove='mutations'): received invalid argument "
                           f"for remove={remove}. Valid options are:\n     remove='mutations': "
                           f"all inplace and out= operators will be removed from the program, "
                           f"and replaced with their out-of-place equivalents.\n     "
                           f"remove='mutations_and_views': In addition to the above, all "
                           f"aliasing operators {{view}} will be replaced with their "
                           f"non-aliasing counterparts, {{view}}_copy.\n")

    @functools.wraps(func)
    def functionalized(*args, **kwargs):
        return func(*args, **kwargs)
    return functionalized
