"""The transport behind nbgrad.distributed's 'gloo' backend: every rank holds one TCP connection
to rank 0, which collects, combines and sends back (a star, where Gloo uses rings and trees).
Messages are length-prefixed pickles of NumPy arrays; rank 0 combines in rank order, so every
rank gets the same bits whatever the timing.

Rendezvous, PyTorch's init methods: 'env://' (MASTER_ADDR, MASTER_PORT, and RANK/WORLD_SIZE
unless given), 'tcp://host:port' (rank 0 listens there), 'file:///path' (rank 0 listens on a
free port and writes host:port into the file, the others read it).
"""
import os
import pickle
import socket
import struct
import time
import urllib.parse

_HEADER = struct.Struct('<Q')


def _send(sock, obj):
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    sock.sendall(_HEADER.pack(len(data)) + data)


def _recv_exact(sock, n):
    chunks = []
    while n:
        chunk = sock.recv(min(n, 1 << 20))
        if not chunk:
            raise RuntimeError('nbgrad.distributed: a peer closed its connection (did another '
                               'rank fail or leave the process group?)')
        chunks.append(chunk)
        n -= len(chunk)
    return b''.join(chunks)


def _recv(sock):
    (size,) = _HEADER.unpack(_recv_exact(sock, _HEADER.size))
    return pickle.loads(_recv_exact(sock, size))


def rendezvous(init_method, rank, world_size, timeout):
    """(host, port) rank 0 listens on, and rank/world_size filled in from the environment."""
    if init_method is None or init_method == 'env://':
        try:
            host, port = os.environ['MASTER_ADDR'], int(os.environ['MASTER_PORT'])
        except KeyError as missing:
            raise ValueError(f"Error initializing torch.distributed using env:// rendezvous: "
                             f"environment variable {missing.args[0]} expected, but not set"
                             ) from None
        rank = int(os.environ['RANK']) if rank in (None, -1) else rank
        world_size = int(os.environ['WORLD_SIZE']) if world_size in (None, -1) else world_size
        return host, port, rank, world_size, None
    parsed = urllib.parse.urlparse(init_method)
    if rank in (None, -1) or world_size in (None, -1):
        raise ValueError(f'init_method {init_method!r} needs rank and world_size')
    if parsed.scheme == 'tcp':
        return parsed.hostname, parsed.port, rank, world_size, None
    if parsed.scheme == 'file':
        return None, None, rank, world_size, parsed.path
    raise ValueError(f'unknown init_method {init_method!r}: use env://, tcp://host:port or '
                     f'file:///path')


class Hub:
    """Rank 0's connections to every other rank, or another rank's connection to rank 0."""

    def __init__(self, host, port, rank, world_size, file_path, timeout):
        self.rank, self.world_size = rank, world_size
        self.peers = {}
        if rank == 0:
            self._serve(host, port, file_path, timeout)
        else:
            self._connect(host, port, file_path, timeout)

    def _serve(self, host, port, file_path, timeout):
        listener = socket.create_server((host or '127.0.0.1', port or 0))
        listener.settimeout(timeout)
        if file_path is not None:
            address = '%s:%d' % listener.getsockname()[:2]
            tmp = f'{file_path}.{os.getpid()}.tmp'
            with open(tmp, 'w') as f:
                f.write(address)
            os.replace(tmp, file_path)      # (the others never read half an address)
        try:
            while len(self.peers) < self.world_size - 1:
                try:
                    sock, _ = listener.accept()
                except socket.timeout:
                    raise RuntimeError(f'nbgrad.distributed: timed out after {timeout} s waiting '
                                       f'for {self.world_size - 1 - len(self.peers)} more '
                                       f'rank(s) to join') from None
                sock.settimeout(None)
                peer_rank = _recv(sock)
                self.peers[peer_rank] = sock
        finally:
            listener.close()

    def _connect(self, host, port, file_path, timeout):
        deadline = time.monotonic() + timeout
        while True:
            try:
                if file_path is not None:
                    with open(file_path) as f:
                        host, port = f.read().rsplit(':', 1)
                sock = socket.create_connection((host, int(port)), timeout=5)
                break
            except (OSError, ValueError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f'nbgrad.distributed: rank {self.rank} could not reach '
                                       f'rank 0 within {timeout} s') from None
                time.sleep(0.05)
        sock.settimeout(None)
        _send(sock, self.rank)
        self.peers[0] = sock

    # -- the primitives the collectives are made of -----------------------------------------
    def gather_to_root(self, obj):
        """Rank 0: [every rank's obj] in rank order; others: None."""
        if self.rank != 0:
            _send(self.peers[0], obj)
            return None
        return [obj] + [_recv(self.peers[r]) for r in range(1, self.world_size)]

    def from_root(self, objs=None, same=None):
        """Each rank's share from rank 0: objs[rank], or `same` for everyone."""
        if self.rank != 0:
            return _recv(self.peers[0])
        for r in range(1, self.world_size):
            _send(self.peers[r], same if objs is None else objs[r])
        return same if objs is None else objs[0]

    def close(self):
        for sock in self.peers.values():
            try:
                sock.close()
            except OSError:
                pass
        self.peers.clear()
