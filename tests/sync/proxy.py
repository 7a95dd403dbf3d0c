"""A small fault-injecting TCP proxy on loopback, for the field operation tests (issue 17).

    with FaultProxy(target_port) as proxy:
        proxy.inject(Fault("drop_after", after=20_000))     # the next connection only
        run("mawa", "sync", "push", proxy.url)             # … breaks after 20 kB upstream

Each accepted connection takes the next injected fault (or passes untouched when there is none):

- ``pass``        forward both ways untouched;
- ``cut``         close the client's connection at once (a reset), nothing forwarded;
- ``drop_after``  forward ``after`` bytes in ``direction`` ("up": client → server, "down":
                  server → client), then cut both sides;
- ``delay``       wait ``seconds`` before the first byte in ``direction`` is forwarded;
- ``throttle``    forward ``direction`` in pieces of ``chunk`` bytes, ``seconds`` apart (a slow
                  link, so that something can happen in the middle of a transfer);
- ``corrupt``     flip one bit of the byte at offset ``after`` of ``direction``;
- ``duplicate``   each HTTP request of the client is sent twice: first on a connection of
                  its own whose answer is thrown away (a request that arrived but whose answer
                  was lost), then forwarded as usual.

``on_bytes`` (any fault): called once, from the proxy's thread, when ``after`` bytes have
passed in ``direction`` — e.g. to SIGKILL the sender or the receiver in the middle of a
transfer. A fault with ``times=n`` applies to the next n connections; ``times=0`` to every
connection until ``clear()``.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

KINDS = ("pass", "cut", "drop_after", "delay", "throttle", "corrupt", "duplicate")


@dataclass
class Fault:
    kind: str = "pass"
    after: int = 0
    direction: str = "up"
    seconds: float = 0.0
    chunk: int = 4096
    times: int = 1
    on_bytes: Callable[[], None] | None = None
    fired: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault {self.kind!r}")
        if self.direction not in ("up", "down"):
            raise ValueError("direction is 'up' or 'down'")


@dataclass
class Stats:
    connections: int = 0
    bytes_up: int = 0
    bytes_down: int = 0
    faults: list[str] = field(default_factory=list)


def _reset(sock: socket.socket) -> None:
    """Close with a reset (SO_LINGER 0), as a cut cable or a dead process looks to the peer.
    Shut down first: that wakes the other pump blocked reading the same socket."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class FaultProxy:
    def __init__(self, target_port: int, *, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.stats = Stats()
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self._closed = threading.Event()
        self._open: set[socket.socket] = set()
        self._thread = threading.Thread(target=self._accept, name="fault-proxy", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- faults --------------------------------------------------------------------------
    def inject(self, *faults: Fault) -> None:
        with self._lock:
            self._faults.extend(faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def _next_fault(self) -> Fault:
        with self._lock:
            if not self._faults:
                return Fault("pass")
            fault = self._faults[0]
            if fault.times == 1:
                self._faults.popleft()
            elif fault.times > 1:
                fault.times -= 1
            return fault

    def retarget(self, target_port: int) -> None:
        """Forward to another port from the next connection on (a restarted server)."""
        self.target = (self.target[0], target_port)

    # --- plumbing ------------------------------------------------------------------------
    def close(self) -> None:
        self._closed.set()
        try:
            self._listener.close()
        except OSError:
            pass
        with self._lock:
            sockets = list(self._open)
        for s in sockets:
            _reset(s)

    def _track(self, *socks: socket.socket) -> None:
        with self._lock:
            self._open.update(socks)

    def _untrack(self, *socks: socket.socket) -> None:
        with self._lock:
            self._open.difference_update(socks)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self.stats.connections += 1
            threading.Thread(target=self._connection, args=(client,), daemon=True).start()

    def _connection(self, client: socket.socket) -> None:
        fault = self._next_fault()
        if fault.kind != "pass":
            self.stats.faults.append(fault.kind)
        if fault.kind == "cut":
            _reset(client)
            return
        try:
            server = socket.create_connection(self.target, timeout=30)
        except OSError:
            _reset(client)
            return
        for s in (client, server):
            s.settimeout(None)
        self._track(client, server)
        ends = [threading.Event(), threading.Event()]
        up_pump = self._duplicating if fault.kind == "duplicate" else self._pump
        up = threading.Thread(target=up_pump, args=(client, server, "up", fault, ends[0]),
                              daemon=True)
        down = threading.Thread(target=self._pump, args=(server, client, "down", fault,
                                                         ends[1]), daemon=True)
        up.start()
        down.start()
        up.join()
        down.join()
        self._end(client, server)

    def _end(self, *socks: socket.socket) -> None:
        for s in socks:
            _reset(s)
        self._untrack(*socks)

    def _pump(self, src: socket.socket, dst: socket.socket, direction: str, fault: Fault,
              done: threading.Event) -> None:
        mine = fault.direction == direction
        passed = 0
        delayed = False
        try:
            pending = b""
            while True:
                data = pending or src.recv(65536)
                pending = b""
                if not data:
                    try:
                        dst.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                    return
                if mine and fault.kind == "delay" and not delayed:
                    time.sleep(fault.seconds)
                    delayed = True
                if mine and fault.kind == "throttle" and len(data) > fault.chunk:
                    data, pending = data[:fault.chunk], data[fault.chunk:]
                if mine and fault.kind == "drop_after" and passed + len(data) >= fault.after:
                    data = data[:max(0, fault.after - passed)]
                    if data:
                        dst.sendall(data)
                        self._count(direction, len(data))
                    passed += len(data)
                    self._fire(fault, passed)
                    _reset(src)
                    _reset(dst)
                    return
                if mine and fault.kind == "corrupt" and passed <= fault.after < passed + len(data):
                    at = fault.after - passed
                    data = data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]
                dst.sendall(data)
                passed += len(data)
                self._count(direction, len(data))
                if mine:
                    self._fire(fault, passed)
                if mine and fault.kind == "throttle":
                    time.sleep(fault.seconds)
        except OSError:
            _reset(src)
            _reset(dst)
        finally:
            done.set()

    def _count(self, direction: str, n: int) -> None:
        if direction == "up":
            self.stats.bytes_up += n
        else:
            self.stats.bytes_down += n

    @staticmethod
    def _fire(fault: Fault, passed: int) -> None:
        if fault.on_bytes is not None and not fault.fired and passed >= fault.after:
            fault.fired = True
            fault.on_bytes()

    # --- duplicate: every HTTP request delivered twice ----------------------------------
    def _duplicating(self, client: socket.socket, server: socket.socket, direction: str,
                     fault: Fault, done: threading.Event) -> None:
        """Read each of the client's HTTP requests whole, send it to the server first on a
        connection of its own whose answer is thrown away (a request that arrived but whose
        answer was lost), then forward it as usual."""
        reader = _Reader(client)
        try:
            while True:
                request = reader.message()
                if request is None:
                    try:
                        server.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                    return
                try:
                    with socket.create_connection(self.target, timeout=120) as extra:
                        extra.sendall(request)
                        self._count("up", len(request))
                        _Reader(extra).message()  # the answer, thrown away
                except OSError:
                    pass
                server.sendall(request)
                self._count("up", len(request))
        except OSError:
            _reset(client)
            _reset(server)
        finally:
            done.set()


class _Reader:
    """HTTP messages off a socket, one at a time (headers and a Content-Length body; an
    answer without a length runs to the close)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def _more(self) -> bool:
        piece = self.sock.recv(65536)
        self.buffer += piece
        return bool(piece)

    def message(self) -> bytes | None:
        while b"\r\n\r\n" not in self.buffer:
            if not self._more():
                return None
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        length = None
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        if length is None and head.startswith(b"HTTP/"):
            while self._more():
                pass
            length = len(self.buffer) - len(head) - 4
        length = length or 0
        while len(self.buffer) - len(head) - 4 < length:
            if not self._more():
                break
        end = len(head) + 4 + length
        message, self.buffer = self.buffer[:end], self.buffer[end:]
        return message
