"""The transport behind nbgrad.distributed's 'gloo' backend: a TCP connection between every pair
of ranks (a full mesh), set up through rank 0. Messages are length-prefixed pickles of
(key, payload); a key names the operation a message belongs to (a group's n-th collective, or a
point-to-point tag), so messages of different operations between the same two ranks can arrive
in any order: one that is not wanted yet waits in an inbox until its operation asks for it.

Every receive waits at most the process group's timeout, then raises a RuntimeError naming the
operation and the rank it was waiting for (a rank that never joins a collective fails the others
instead of hanging them forever).

Rendezvous, PyTorch's init methods: 'env://' (MASTER_ADDR, MASTER_PORT, and RANK/WORLD_SIZE
unless given), 'tcp://host:port' (rank 0 listens there), 'file:///path' (rank 0 listens on a
free port and writes host:port into the file, the others read it). Under torchrun, whose agent
already listens on MASTER_PORT with its own store (TORCHELASTIC_USE_AGENT_STORE=True), rank 0
listens on MASTER_PORT + 1 instead (see _port_beside_torchruns_store).
"""
import collections
import os
import pickle
import select
import socket
import struct
import threading
import time
import urllib.parse

_HEADER = struct.Struct('<Q')


def _send(sock, obj):
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    sock.sendall(_HEADER.pack(len(data)) + data)


def _recv_exact(sock, n, deadline, what):
    chunks = []
    while n:
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            raise socket.timeout
        sock.settimeout(remaining)
        chunk = sock.recv(min(n, 1 << 20))
        if not chunk:
            raise RuntimeError(f'nbgrad.distributed: {what}: a peer closed its connection (did '
                               f'another rank fail or leave the process group?)')
        chunks.append(chunk)
        n -= len(chunk)
    return b''.join(chunks)


def _recv(sock, deadline=None, what='rendezvous'):
    (size,) = _HEADER.unpack(_recv_exact(sock, _HEADER.size, deadline, what))
    return pickle.loads(_recv_exact(sock, size, deadline, what))


def _env(name):
    try:
        return os.environ[name]
    except KeyError:
        raise ValueError(f'Error initializing torch.distributed using env:// rendezvous: '
                         f'environment variable {name} expected, but not set') from None


def _port_beside_torchruns_store(port):
    """torchrun's agent serves its TCPStore on MASTER_PORT and tells its workers so with
    TORCHELASTIC_USE_AGENT_STORE=True; nbgrad does not speak that store's protocol, so its rank 0
    listens on the next port (NBGRAD_MASTER_PORT overrides the choice)."""
    if 'NBGRAD_MASTER_PORT' in os.environ:
        return int(os.environ['NBGRAD_MASTER_PORT'])
    if os.environ.get('TORCHELASTIC_USE_AGENT_STORE') == 'True':
        return port + 1
    return port


def rendezvous(init_method, rank, world_size):
    """(host, port, rank, world_size, file path): where rank 0 listens, with rank and world_size
    filled in from the environment."""
    if init_method is None or init_method == 'env://':
        host, port = _env('MASTER_ADDR'), int(_env('MASTER_PORT'))
        rank = int(_env('RANK')) if rank in (None, -1) else rank
        world_size = int(_env('WORLD_SIZE')) if world_size in (None, -1) else world_size
        return host, _port_beside_torchruns_store(port), rank, world_size, None
    parsed = urllib.parse.urlparse(init_method)
    query = urllib.parse.parse_qs(parsed.query)
    if rank in (None, -1) and 'rank' in query:
        rank = int(query['rank'][0])
    if world_size in (None, -1) and 'world_size' in query:
        world_size = int(query['world_size'][0])
    if rank in (None, -1) or world_size in (None, -1):
        raise ValueError(f'init_method {init_method!r} needs rank and world_size (arguments, or '
                         f'?rank=..&world_size=.. in the URL)')
    if parsed.scheme == 'tcp':
        return parsed.hostname, parsed.port, rank, world_size, None
    if parsed.scheme == 'file':
        return None, None, rank, world_size, parsed.path
    raise ValueError(f'unknown init_method {init_method!r}: use env://, tcp://host:port or '
                     f'file:///path')


class Hub:
    """This rank's connections to every other rank, and the inboxes of messages that arrived
    before their operation asked for them."""

    def __init__(self, host, port, rank, world_size, file_path, timeout):
        self.rank, self.world_size, self.timeout = rank, world_size, timeout
        self.socks = {}
        self.inbox = collections.defaultdict(lambda: collections.defaultdict(collections.deque))
        self.send_locks = collections.defaultdict(threading.Lock)
        deadline = time.monotonic() + timeout
        if rank == 0:
            self._serve(host, port, file_path, deadline)
        else:
            self._join(host, port, file_path, deadline)

    # -- setting up the mesh ----------------------------------------------------------------
    def _serve(self, host, port, file_path, deadline):
        listener = socket.create_server((host or '127.0.0.1', port or 0),
                                        backlog=max(self.world_size, 16))
        if file_path is not None:
            address = '%s:%d' % listener.getsockname()[:2]
            tmp = f'{file_path}.{os.getpid()}.tmp'
            with open(tmp, 'w') as f:
                f.write(address)
            os.replace(tmp, file_path)      # (the others never read half an address)
        addresses = {}
        try:
            while len(self.socks) < self.world_size - 1:
                sock = self._accept(listener, deadline, self.world_size - 1 - len(self.socks))
                peer_rank, address = _recv(sock, deadline)
                if peer_rank in self.socks or not 0 < peer_rank < self.world_size:
                    sock.close()
                    raise RuntimeError(f'nbgrad.distributed: a process joined as rank '
                                       f'{peer_rank}, which is taken or not in [1, world_size='
                                       f'{self.world_size}): are two jobs using the same port?')
                self.socks[peer_rank], addresses[peer_rank] = sock, address
        finally:
            listener.close()
        for sock in self.socks.values():
            _send(sock, addresses)

    def _accept(self, listener, deadline, missing):
        listener.settimeout(max(deadline - time.monotonic(), 0.001))
        try:
            sock, _ = listener.accept()
        except socket.timeout:
            raise RuntimeError(f'nbgrad.distributed: rank {self.rank} timed out after '
                               f'{self.timeout:g} s waiting for {missing} more rank(s) to '
                               f'join') from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def _join(self, host, port, file_path, deadline):
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
                                       f'rank 0 at {host}:{port} within {self.timeout:g} s'
                                       ) from None
                time.sleep(0.05)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # this rank's own listener, on the interface that reaches rank 0, for the ranks above it
        listener = socket.create_server((sock.getsockname()[0], 0),
                                        backlog=max(self.world_size, 16))
        try:
            _send(sock, (self.rank, listener.getsockname()[:2]))
            self.socks[0] = sock
            addresses = _recv(sock, deadline)
            for peer in range(1, self.rank):         # connect down, then accept from above
                conn = socket.create_connection(tuple(addresses[peer]),
                                                timeout=max(deadline - time.monotonic(), 1))
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                _send(conn, self.rank)
                self.socks[peer] = conn
            while len(self.socks) < self.world_size - 1:
                conn = self._accept(listener, deadline, self.world_size - 1 - len(self.socks))
                self.socks[_recv(conn, deadline)] = conn
        finally:
            listener.close()

    # -- messages ---------------------------------------------------------------------------
    def send(self, peer, key, obj):
        if peer == self.rank:
            self.inbox[peer][key].append(obj)
            return
        with self.send_locks[peer]:
            _send(self.socks[peer], (key, obj))

    def recv(self, peer, key, what, timeout=None):
        """The next payload sent by `peer` under `key`; waits at most the group's timeout."""
        box = self.inbox[peer]
        if box[key]:
            return box[key].popleft()
        seconds = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + seconds
        sock = self.socks.get(peer)
        if sock is None:
            raise RuntimeError(f'nbgrad.distributed: {what}: no connection to rank {peer}')
        try:
            while True:
                got, obj = _recv(sock, deadline, what)
                if got == key:
                    return obj
                box[got].append(obj)
        except socket.timeout:
            raise RuntimeError(f'nbgrad.distributed: {what} on rank {self.rank} timed out after '
                               f'{seconds:g} s waiting for rank {peer} (did it skip this '
                               f'collective, or is it stuck? the timeout is '
                               f'init_process_group(timeout=...))') from None

    def recv_any(self, peers, key, what, timeout=None):
        """(sender, payload): the next payload under `key` from whichever of `peers` sends one
        first (recv(src=None)); waits at most the group's timeout."""
        seconds = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + seconds
        socks = {self.socks[p]: p for p in peers if p in self.socks}
        while True:
            for peer in peers:
                if self.inbox[peer][key]:
                    return peer, self.inbox[peer][key].popleft()
            left = deadline - time.monotonic()
            readable = select.select(list(socks), [], [], left)[0] if left > 0 else []
            if not readable:
                raise RuntimeError(f'nbgrad.distributed: {what} on rank {self.rank} timed out '
                                   f'after {seconds:g} s waiting for a message from any rank '
                                   f'(the timeout is init_process_group(timeout=...))')
            for sock in readable:       # (one whole message from each: others' keys are kept)
                got, obj = _recv(sock, deadline, what)
                self.inbox[socks[sock]][got].append(obj)

    def poll(self, peer, key):
        """Whether a payload under `key` from `peer` is here (reads what has arrived)."""
        box = self.inbox[peer]
        sock = self.socks.get(peer)
        while not box[key] and sock is not None and select.select([sock], [], [], 0)[0]:
            got, obj = _recv(sock, time.monotonic() + self.timeout, 'poll')
            box[got].append(obj)
        return bool(box[key])

    def close(self):
        for sock in self.socks.values():
            try:
                sock.close()
            except OSError:
                pass
        self.socks.clear()
