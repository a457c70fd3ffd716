"""python -m nbgrad.utils.bottleneck script.py [args], run in a subprocess on a tiny script."""
import os
import subprocess
import sys
import textwrap

import nbgrad

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run_bottleneck(tmp_path, env_extra=None):
    script = tmp_path / 'tiny_train.py'
    script.write_text(textwrap.dedent('''
        import sys
        import nbgrad as torch
        model = torch.nn.Linear(8, 4)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        for _ in range(int(sys.argv[1])):
            loss = model(torch.randn(16, 8)).relu().sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
        print('script args:', sys.argv[1:])
    '''))
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get('PYTHONPATH', ''))
    env.update(env_extra or {})
    result = subprocess.run([sys.executable, '-m', 'nbgrad.utils.bottleneck', str(script), '2',
                             '--flag'], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_bottleneck_sections(tmp_path):
    out = _run_bottleneck(tmp_path)
    sections = ['Environment Summary', 'cProfile output',
                'autograd profiler output (CPU mode)']
    positions = [out.index(f'  {title}\n') for title in sections]
    assert positions == sorted(positions)
    assert f'nbgrad {nbgrad.__version__}' in out and 'NumPy ' in out
    # the script ran with its own arguments (once per report)
    assert out.count("script args: ['2', '--flag']") == 2
    # cProfile's table, then the op table with PyTorch's header and the ops the script ran
    assert 'ncalls  tottime  percall  cumtime  percall filename:lineno(function)' in out
    op_table = out[positions[2]:]
    assert 'top 15 events sorted by cpu_time_total' in op_table
    assert 'Self CPU %' in op_table and '# of Calls' in op_table
    assert 'aten::linear' in op_table and 'Self CPU time total:' in op_table
    # 2 steps: the hand count of linear calls
    row = next(line for line in op_table.splitlines() if line.strip().startswith('aten::linear'))
    assert row.split()[-1] == '2'
    if not nbgrad.cuda.is_available():
        assert 'CUDA mode' not in out and 'CUDA available: no' in out


def test_bottleneck_cuda_mode_on_the_fake_cupy(tmp_path):
    out = _run_bottleneck(tmp_path, {'NBGRAD_FAKE_CUDA': '1', 'NBGRAD_FAKE_CUDA_DEVICES': '1',
                                     'PYTHONPATH': os.pathsep.join(
                                         [ROOT, os.path.join(ROOT, 'tests', 'fake_cuda')])})
    assert 'CUDA available: 1 device(s)' in out
    cuda_part = out[out.index('autograd profiler output (CUDA mode)'):]
    assert 'top 15 events sorted by cuda_time_total' in cuda_part
    # the script's tensors are on the CPU: no device time, so no CUDA columns (as in PyTorch)
    assert 'aten::linear' in cuda_part
