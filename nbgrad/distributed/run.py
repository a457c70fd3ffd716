"""torchrun for nbgrad: `python -m nbgrad.distributed.run --nproc_per_node 2 train.py args`
starts the processes of one node with the environment torch.distributed's env:// rendezvous
reads (MASTER_ADDR, MASTER_PORT, RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, GROUP_RANK,
ROLE_RANK, ROLE_WORLD_SIZE, TORCHELASTIC_RUN_ID, ...), waits for them, and when one fails stops
the others and exits with status 1 naming the failed rank and its exit code, as torchrun does.
Not supported: elastic restarts (--max_restarts is accepted and must be 0) and rendezvous
backends (nodes meet at --master_addr:--master_port).

Under real torchrun (whose agent serves its store on MASTER_PORT and sets
TORCHELASTIC_USE_AGENT_STORE=True), nbgrad's rank 0 listens on MASTER_PORT + 1 instead, so
scripts written for torchrun run unchanged under either launcher.
"""
import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import uuid


def _parser():
    p = argparse.ArgumentParser(prog='python -m nbgrad.distributed.run',
                                description='Start a distributed nbgrad job (as torchrun).')
    p.add_argument('--nproc_per_node', '--nproc-per-node', default='1')
    p.add_argument('--nnodes', default='1')
    p.add_argument('--node_rank', '--node-rank', type=int, default=0)
    p.add_argument('--master_addr', '--master-addr', default='127.0.0.1')
    p.add_argument('--master_port', '--master-port', type=int, default=None)
    p.add_argument('--standalone', action='store_true')
    p.add_argument('--rdzv_id', '--rdzv-id', default=None)
    p.add_argument('--rdzv_backend', '--rdzv-backend', default='static')
    p.add_argument('--rdzv_endpoint', '--rdzv-endpoint', default='')
    p.add_argument('--max_restarts', '--max-restarts', type=int, default=0)
    p.add_argument('--monitor_interval', '--monitor-interval', type=float, default=0.1)
    p.add_argument('--module', '-m', action='store_true')
    p.add_argument('--no_python', '--no-python', action='store_true')
    p.add_argument('training_script')
    p.add_argument('training_script_args', nargs=argparse.REMAINDER)
    return p


def _free_port():
    with socket.socket() as s:
        s.bind(('', 0))
        return s.getsockname()[1]


def _nproc(value):
    if value in ('cpu', 'auto'):
        return os.cpu_count() or 1
    if value == 'gpu':
        raise ValueError("--nproc_per_node=gpu: nbgrad's gloo backend runs CPU processes")
    return int(value)


def _command(args):
    if args.no_python:
        return [args.training_script, *args.training_script_args]
    if args.module:
        return [sys.executable, '-u', '-m', args.training_script, *args.training_script_args]
    return [sys.executable, '-u', args.training_script, *args.training_script_args]


def _environments(args, nproc):
    nnodes = int(str(args.nnodes).split(':')[-1])
    port = args.master_port
    if port is None:
        if args.rdzv_endpoint and ':' in args.rdzv_endpoint:
            port = int(args.rdzv_endpoint.rsplit(':', 1)[1])
        else:
            port = _free_port() if nnodes == 1 else 29500
    addr = args.master_addr
    if args.rdzv_endpoint and not args.standalone:
        addr = args.rdzv_endpoint.rsplit(':', 1)[0] or addr
    world = nproc * nnodes
    run_id = args.rdzv_id or ('none' if not args.standalone else str(uuid.uuid4()))
    for local in range(nproc):
        env = dict(os.environ)
        env.update(MASTER_ADDR=addr, MASTER_PORT=str(port),
                   RANK=str(args.node_rank * nproc + local), LOCAL_RANK=str(local),
                   WORLD_SIZE=str(world), LOCAL_WORLD_SIZE=str(nproc),
                   GROUP_RANK=str(args.node_rank), GROUP_WORLD_SIZE=str(nnodes),
                   ROLE_RANK=str(args.node_rank * nproc + local), ROLE_WORLD_SIZE=str(world),
                   ROLE_NAME='default', TORCHELASTIC_RUN_ID=run_id,
                   TORCHELASTIC_RESTART_COUNT='0',
                   TORCHELASTIC_MAX_RESTARTS=str(args.max_restarts),
                   TORCHELASTIC_USE_AGENT_STORE='False')      # (nobody holds MASTER_PORT)
        if nproc > 1 and 'OMP_NUM_THREADS' not in os.environ:
            env['OMP_NUM_THREADS'] = '1'
        yield env


def _stop(processes):
    for p in processes:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 30
    for p in processes:
        try:
            p.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _report(args, failure, nproc):
    local, code = failure
    rank = args.node_rank * nproc + local
    if code < 0:
        what = f'exitcode: {code} (pid: signal {signal.Signals(-code).name})'
    else:
        what = f'exitcode: {code}'
    line = '=' * 60
    sys.stderr.write(
        f'{line}\n{args.training_script} FAILED\n{"-" * 60}\nRoot Cause (first observed '
        f'failure):\n[0]:\n  time      : {time.strftime("%Y-%m-%d_%H:%M:%S")}\n  host      : '
        f'{socket.gethostname()}\n  rank      : {rank} (local_rank: {local})\n  {what}\n'
        f'{line}\n')


def main(argv=None):
    args = _parser().parse_args(argv)
    if args.max_restarts:
        raise SystemExit('nbgrad.distributed.run: elastic restarts (--max_restarts > 0) are not '
                         'supported')
    nproc = _nproc(args.nproc_per_node)
    command = _command(args)
    processes = [subprocess.Popen(command, env=env) for env in _environments(args, nproc)]
    failure = None
    try:
        while failure is None and any(p.poll() is None for p in processes):
            for local, p in enumerate(processes):
                if p.poll() not in (None, 0):
                    failure = (local, p.returncode)
                    break
            time.sleep(args.monitor_interval)
        if failure is None:
            for local, p in enumerate(processes):
                if p.returncode != 0:
                    failure = (local, p.returncode)
                    break
    except KeyboardInterrupt:
        _stop(processes)
        raise
    if failure is not None:
        _stop(processes)
        _report(args, failure, nproc)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
