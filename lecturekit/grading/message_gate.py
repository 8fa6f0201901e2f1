"""A gate between the grader's zmq sockets and a grading kernel's, which bounds whole messages.

zmq's MAXMSGSIZE bounds one frame, not a message: a kernel that sends one iopub message of 20 frames of 30 MB
(the same buffer sent 20 times without a copy, so its own memory barely moves) makes the grader's zmq thread
hold all 600 MB until the last frame arrives, and nothing bounds the number of frames. So the grader never
connects to a kernel's sockets directly: it connects to this gate, a relay on Unix sockets in a private folder,
which passes the bytes both ways unchanged and reads what the kernel sends as ZMTP 3 frames (a flags byte, a
1- or 8-byte size, the body; RFC 23/ZMTP). A message of more than `max_frames` frames is refused (the
connection is cut and `on_refuse` is told, so the kernel is stopped); a message or command bigger than
`max_bytes` only cuts the connection (zmq reconnects and drops the unfinished message, as MAXMSGSIZE would),
and `on_cut` is told, so that the copy is listed for the instructor's review (the grader never saw that output
or reply: a cell may then time out for it).
The relay forwards as it reads and stops reading a side while the other has bytes waiting, so its own memory
is a few chunks; what the grader's zmq holds is then at most its receive high-water mark (messages, set low on
the grader's sockets) times `max_bytes`, plus one unfinished message.
"""

from __future__ import annotations

import selectors
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

_CHUNK = 1 << 16
_GREETING = 64  # ZMTP 3 greeting: signature (10), version (2), mechanism (20), as-server (1), filler (31)
_MORE, _LONG, _COMMAND = 0x01, 0x02, 0x04
MAX_COMMAND_BYTES = 1 << 16  # READY and PING commands are a few bytes of metadata


class Refused(Exception):
    """The kernel sent something the gate will not pass: `cut` only drops the connection, else the kernel goes."""

    def __init__(self, why: str, cut: bool = False) -> None:
        super().__init__(why)
        self.cut = cut


@dataclass
class FrameCounter:
    """Reads a ZMTP 3 byte stream (the kernel's side of one connection) without keeping it: counts the frames
    and bytes of the message under way and raises Refused when one goes over the limits."""

    max_frames: int
    max_bytes: int
    _greeting: bytearray = field(default_factory=bytearray)
    _header: bytearray = field(default_factory=bytearray)
    _body_left: int = 0
    _frames: int = 0
    _bytes: int = 0

    def feed(self, data: bytes) -> None:
        view, i = memoryview(data), 0
        while i < len(view):
            if len(self._greeting) < _GREETING:
                take = min(_GREETING - len(self._greeting), len(view) - i)
                self._greeting += view[i : i + take]
                i += take
                self._check_greeting()
            elif self._body_left:
                take = min(self._body_left, len(view) - i)
                self._body_left -= take
                i += take
            else:
                self._header.append(view[i])
                i += 1
                self._read_header()

    def _check_greeting(self) -> None:
        g = self._greeting
        if len(g) >= 1 and g[0] != 0xFF or len(g) >= 10 and not g[9] & 1 or len(g) >= 11 and g[10] < 3:
            raise Refused("the kernel does not speak ZMTP 3")

    def _read_header(self) -> None:
        flags = self._header[0]
        if flags & ~(_MORE | _LONG | _COMMAND):
            raise Refused("the kernel sent bytes that are not ZMTP frames")
        size_bytes = 8 if flags & _LONG else 1
        if len(self._header) < 1 + size_bytes:
            return
        size = int.from_bytes(self._header[1:], "big")
        self._header.clear()
        if flags & _COMMAND:
            if size > MAX_COMMAND_BYTES:
                raise Refused(f"the kernel sent a command of {size} bytes", cut=True)
        else:
            self._frames += 1
            self._bytes += size
            if self._frames > self.max_frames:
                raise Refused(f"it sent a message of more than {self.max_frames} parts")
            if self._bytes > self.max_bytes:
                raise Refused(f"the kernel sent a message of more than {self.max_bytes >> 20} MB", cut=True)
            if not flags & _MORE:
                self._frames = self._bytes = 0
        self._body_left = size


@dataclass(eq=False)
class _Relay:
    """One connection through the gate: the grader's end, the kernel's, the bytes waiting for each."""

    grader: socket.socket
    kernel: socket.socket
    counter: FrameCounter
    to_grader: bytearray = field(default_factory=bytearray)
    to_kernel: bytearray = field(default_factory=bytearray)
    watched: set[socket.socket] = field(default_factory=set)


class MessageGate:
    """The relays of one kernel's sockets, served by one thread. `url(kernel_path, max_frames, max_bytes)`
    gives the address the grader connects to instead of the kernel's ipc path; `close()` ends every relay."""

    def __init__(self, on_refuse: Callable[[str], None], on_cut: Callable[[str], None] | None = None) -> None:
        self.on_refuse = on_refuse
        self.on_cut = on_cut
        self.refused = ""
        self.folder = Path(tempfile.mkdtemp(prefix="lkgate-"))  # mode 0700: only the grader's user connects
        self._selector = selectors.DefaultSelector()
        self._lock = threading.Lock()
        self._relays: list[_Relay] = []
        self._listeners = 0
        self._closed = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def url(self, kernel_path: str, max_frames: int, max_bytes: int) -> str:
        """The address to connect to instead of `kernel_path` (a Unix socket the kernel listens on)."""
        with self._lock:
            self._listeners += 1
            path = self.folder / f"s{self._listeners}"
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(str(path))
            listener.listen(8)
            listener.setblocking(False)
            self._selector.register(listener, selectors.EVENT_READ, (kernel_path, max_frames, max_bytes))
        return f"ipc://{path}"

    def close(self) -> None:
        self._closed = True
        self._thread.join(timeout=5)
        shutil.rmtree(self.folder, ignore_errors=True)

    # ---- the thread ----
    def _serve(self) -> None:
        try:
            while not self._closed:
                with self._lock:
                    events = self._selector.select(timeout=0.05) if self._selector.get_map() else []
                    for key, mask in events:
                        if isinstance(key.data, tuple):
                            self._accept(key.fileobj, *key.data)  # type: ignore[arg-type]
                        else:
                            self._pump(key.data, key.fileobj, mask)  # type: ignore[arg-type]
                if not events:
                    time.sleep(0.005)
        finally:
            with self._lock:
                for key in list(self._selector.get_map().values()):
                    key.fileobj.close()  # type: ignore[union-attr]
                for relay in self._relays:
                    relay.grader.close()
                    relay.kernel.close()
                self._selector.close()

    def _accept(self, listener: socket.socket, kernel_path: str, max_frames: int, max_bytes: int) -> None:
        try:
            grader, _ = listener.accept()
        except OSError:
            return
        kernel = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            kernel.connect(kernel_path)  # not there yet: the grader's zmq tries again shortly
        except OSError:
            grader.close()
            kernel.close()
            return
        for s in (grader, kernel):
            s.setblocking(False)
        relay = _Relay(grader, kernel, FrameCounter(max_frames, max_bytes))
        self._relays.append(relay)
        self._interest(relay)

    def _pump(self, relay: _Relay, sock: socket.socket, mask: int) -> None:
        """Move bytes for one ready end: write what waits for it, read it when its last bytes have gone on."""
        from_kernel = sock is relay.kernel
        other = relay.grader if from_kernel else relay.kernel
        waiting_in = relay.to_kernel if not from_kernel else relay.to_grader  # bytes for this end
        waiting_out = relay.to_grader if from_kernel else relay.to_kernel  # bytes from this end, for the other
        try:
            if mask & selectors.EVENT_WRITE and waiting_in:
                del waiting_in[: sock.send(waiting_in)]
            if mask & selectors.EVENT_READ and not waiting_out:
                data = sock.recv(_CHUNK)
                if not data:
                    raise ConnectionError("closed")
                if from_kernel:
                    relay.counter.feed(data)  # before a byte of it goes on
                waiting_out += data
                del waiting_out[: other.send(waiting_out)]
        except BlockingIOError:
            pass
        except Refused as exc:
            self._drop(relay)
            if exc.cut and self.on_cut is not None:
                self.on_cut(str(exc))
            if not exc.cut and not self.refused:
                self.refused = str(exc)
                self.on_refuse(str(exc))
            return
        except OSError:
            self._drop(relay)
            return
        self._interest(relay)

    def _interest(self, relay: _Relay) -> None:
        """Read an end only while none of its bytes wait for the other end; write an end while bytes wait for it."""
        for sock, for_it, from_it in (
            (relay.grader, relay.to_grader, relay.to_kernel),
            (relay.kernel, relay.to_kernel, relay.to_grader),
        ):
            events = (0 if from_it else selectors.EVENT_READ) | (selectors.EVENT_WRITE if for_it else 0)
            if events and sock in relay.watched:
                self._selector.modify(sock, events, relay)
            elif events:
                self._selector.register(sock, events, relay)
                relay.watched.add(sock)
            elif sock in relay.watched:
                self._selector.unregister(sock)
                relay.watched.discard(sock)

    def _drop(self, relay: _Relay) -> None:
        for s in (relay.grader, relay.kernel):
            if s in relay.watched:
                self._selector.unregister(s)
            s.close()
        relay.watched.clear()
        if relay in self._relays:
            self._relays.remove(relay)
