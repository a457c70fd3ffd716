"""nbgrad.profiler: PyTorch's torch.profiler over nbgrad's op dispatch point.

    from nbgrad.profiler import profile, record_function, ProfilerActivity
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        with record_function('train_step'):
            loss = model(x).sum(); loss.backward(); opt.step()
    print(prof.key_averages().table(sort_by='self_cpu_time_total', row_limit=10))
    prof.export_chrome_trace('trace.json')     # Perfetto / chrome://tracing

The recording itself is nbgrad/profiler/_recorder.py; the results and the table are
nbgrad/autograd/profiler_util.py. With no profiler running nothing is installed anywhere.
"""
from ..autograd.profiler import record_function
from ..autograd.profiler_util import DeviceType
from .profiler import (ProfilerAction, ProfilerActivity, profile, schedule,
                       supported_activities, tensorboard_trace_handler)


def kineto_available():
    """nbgrad records its own events (there is no Kineto library behind it)."""
    return False


__all__ = ['profile', 'schedule', 'supported_activities', 'tensorboard_trace_handler',
           'ProfilerAction', 'ProfilerActivity', 'kineto_available', 'DeviceType',
           'record_function']
