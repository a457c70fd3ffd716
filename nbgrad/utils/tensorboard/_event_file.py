"""Event files: TFRecord framing (length, masked CRC-32C of the length, data, masked CRC-32C of
the data), written through a buffer that flushes every max_queue events, every flush_secs, on
flush() and on close(). The file name is TensorBoard's, so TensorBoard finds and orders it."""
import os
import socket
import struct
import threading
import time
import weakref

from . import _proto

_CRC32C_TABLE = []
for _n in range(256):
    _c = _n
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC32C_TABLE.append(_c)

_uid_lock = threading.Lock()
_next_uid = [0]


def crc32c(data):
    """CRC-32C (Castagnoli), the checksum TFRecord uses (zlib's crc32 is another polynomial)."""
    crc = 0xFFFFFFFF
    table = _CRC32C_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _masked(crc):
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def record(data):
    length = struct.pack('<Q', len(data))
    return (length + struct.pack('<I', _masked(crc32c(length))) + data +
            struct.pack('<I', _masked(crc32c(data))))


def _write_and_close(file, pending):
    if not file.closed:
        file.write(b''.join(pending))
        pending.clear()
        file.close()


def _global_uid():
    with _uid_lock:
        uid = _next_uid[0]
        _next_uid[0] += 1
    return uid


class EventFileWriter:
    """One events.out.tfevents.* file in log_dir, starting with the file-version event."""

    def __init__(self, log_dir, max_queue=10, flush_secs=120, filename_suffix=''):
        self.log_dir = str(log_dir)
        os.makedirs(self.log_dir, exist_ok=True)
        name = 'events.out.tfevents.%010d.%s.%s.%s%s' % (
            time.time(), socket.gethostname(), os.getpid(), _global_uid(), filename_suffix)
        self.path = os.path.join(self.log_dir, name)
        self._file = open(self.path, 'wb')      # noqa: SIM115 (closed by close())
        self.max_queue, self.flush_secs = max_queue, flush_secs
        self._pending = []
        # a writer never closed (or alive at exit) still writes what it holds
        self._finalizer = weakref.finalize(self, _write_and_close, self._file, self._pending)
        self._last_flush = time.monotonic()
        self.add_event(_proto.event(time.time(), file_version='brain.Event:2'))
        self.flush()

    def add_event(self, event_bytes):
        if self._file.closed:
            raise RuntimeError('this event file writer is closed')
        self._pending.append(record(event_bytes))
        if len(self._pending) >= self.max_queue or \
                time.monotonic() - self._last_flush >= self.flush_secs:
            self.flush()

    def flush(self):
        if self._pending and not self._file.closed:
            self._file.write(b''.join(self._pending))
            self._pending.clear()
        if not self._file.closed:
            self._file.flush()
        self._last_flush = time.monotonic()

    def close(self):
        self.flush()
        self._finalizer()

    def get_logdir(self):
        return self.log_dir
