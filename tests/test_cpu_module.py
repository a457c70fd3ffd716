"""nbgrad.cpu (torch.cpu's device-module interface) and set/get_num_interop_threads against
PyTorch."""
import subprocess
import sys

import pytest
import torch

import nbgrad


@pytest.mark.parametrize('name', ['is_available', 'is_initialized', 'device_count',
                                  'current_device', 'synchronize'])
def test_queries_match_pytorch(name):
    assert getattr(nbgrad.cpu, name)() == getattr(torch.cpu, name)()


def test_streams_and_events_do_nothing_as_in_pytorch():
    for lib in (torch, nbgrad):
        stream = lib.cpu.Stream()
        event = lib.cpu.Event()
        with lib.cpu.stream(stream):
            calls = [lib.cpu.synchronize('cpu'), lib.cpu.set_device('cpu'),
                     stream.wait_stream(lib.cpu.current_stream()), stream.wait_event(event),
                     stream.record_event(), event.record(), event.synchronize(), event.wait()]
        assert calls == [None] * 8 and event.query() is True
        assert isinstance(lib.cpu.current_stream(), lib.cpu.Stream)


def test_capabilities_agree_with_pytorch_where_both_know():
    ours, theirs = nbgrad.cpu.get_capabilities(), torch.cpu.get_capabilities()
    shared = sorted(set(ours) & set(theirs))
    assert {'avx2', 'avx512_f', 'num_logical_cores', 'architecture'} <= set(shared)
    assert {key: ours[key] for key in shared} == {key: theirs[key] for key in shared}
    with pytest.raises(TypeError):
        ours['avx2'] = False          # read-only, as PyTorch's mappingproxy


def test_interop_thread_errors_match_pytorch():
    """(in fresh processes: the setting is process-wide and can be made once)"""
    script = ('import {lib} as t\n'
              'for value in (0, -2, 2.0, "3", True):\n'
              '    try:\n        t.set_num_interop_threads(value)\n'
              '    except RuntimeError as e:\n        print(e)\n')
    out = [subprocess.run([sys.executable, '-c', script.format(lib=lib)], capture_output=True,
                          text=True).stdout for lib in ('torch', 'nbgrad')]
    assert out[1] == out[0] and out[0].count('\n') == 5


def test_interop_threads_are_set_once_as_in_pytorch():
    script = ('import {lib} as t\n'
              'default = t.get_num_interop_threads()\n'
              't.set_num_interop_threads(3)\n'
              'print(default > 0, t.get_num_interop_threads())\n'
              'try:\n    t.set_num_interop_threads(4)\n'
              'except RuntimeError as e:\n    print(e)\n'
              'print(t.get_num_interop_threads())\n')
    out = [subprocess.run([sys.executable, '-c', script.format(lib=lib)], capture_output=True,
                          text=True).stdout for lib in ('torch', 'nbgrad')]
    assert out[1] == out[0] and out[0].startswith('True 3')
