"""Reading what a submission or a kernel hands the grader, as hostile data.

Everything here assumes the worst of a file: that it is a symlink to the course's solutions, a FIFO that
nobody writes, a device, a 100,000-deep JSON document, a zip member that inflates a thousandfold, a folder
tree too deep for recursion. So: symlinks are never followed (O_NOFOLLOW on the file, folders walked by file
descriptor without following links), only regular files are read (checked on the open descriptor, after a
non-blocking open), every read has a size and a time limit, JSON's nesting is measured before it is parsed,
array archives are checked member by member (stored, not compressed; plain dtypes; sizes that agree with
their shapes) before any array is loaded, and folders are removed without recursion.
"""

from __future__ import annotations

import json
import os
import stat
import struct
import subprocess
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

_NAME_OK = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+@ ()[],'&")


class UntrustedFileError(ValueError):
    """A file handed to the grader that it will not read (the message says why, for the instructor)."""


def _open_regular(path: Path, dir_fd: int | None = None) -> int:
    """A descriptor of `path`, never through a symlink and never blocking; only a regular file is kept open."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno in (40, 62):  # ELOOP (Linux), ELOOP (BSD): the last part of the path is a symlink
            raise UntrustedFileError(f"{Path(path).name} is a symbolic link, not a file") from None
        raise UntrustedFileError(f"{Path(path).name} cannot be opened ({exc.strerror or exc})") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = "a folder" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else "not a regular file"
        raise UntrustedFileError(f"{Path(path).name} is {kind}")
    return fd


def read_bytes(path: Path, limit: int, seconds: float = 10.0, dir_fd: int | None = None) -> bytes:
    """The bytes of a regular file of at most `limit` bytes, read within `seconds`; UntrustedFileError otherwise."""
    fd = _open_regular(path, dir_fd)
    try:
        size = os.fstat(fd).st_size
        if size > limit:
            raise UntrustedFileError(
                f"{Path(path).name} is {size / 2**20:.1f} MB, over the limit of {limit / 2**20:g} MB"
            )
        chunks, total, end = [], 0, time.monotonic() + seconds
        while True:
            if time.monotonic() > end:
                raise UntrustedFileError(f"{Path(path).name} could not be read within {seconds:g} s")
            try:
                chunk = os.read(fd, 1 << 20)
            except BlockingIOError:
                time.sleep(0.01)
                continue
            if not chunk:
                return b"".join(chunks)
            total += len(chunk)
            if total > limit:  # it grew while we read
                raise UntrustedFileError(f"{Path(path).name} is over the limit of {limit / 2**20:.0f} MB")
            chunks.append(chunk)
    finally:
        os.close(fd)


_CHUNK = 1 << 20
_QUOTE, _BACKSLASH = 0x22, 0x5C
_NESTING = np.zeros(256, dtype=np.int8)  # +1 where a byte opens an array or object, -1 where it closes one
_NESTING[[0x5B, 0x7B]], _NESTING[[0x5D, 0x7D]] = 1, -1
_VALUES = np.zeros(256, dtype=np.int8)  # a byte that starts a container or separates two values
_VALUES[[0x5B, 0x7B, 0x2C]] = 1


def json_shape(data: bytes) -> tuple[int, int]:
    """(how deeply arrays and objects nest, how many values they hold) in JSON `data`, strings left out, so
    that both can be capped before parsing. One pass over the bytes at C speed that cannot backtrack (a
    regular expression for strings costs seconds and GBs of stack on a notebook of escaped characters):
    a quote opens or closes a string unless an odd run of backslashes precedes it, and brackets and commas
    count only outside strings. Memory: a few arrays of one chunk (1 MB), whatever the size of `data`.
    Exact for valid JSON; on invalid JSON it counts what a parser reads before its first error."""
    depth = deepest = items = 0
    in_string, backslashes = 0, 0  # carried from one chunk to the next
    for start in range(0, len(data), _CHUNK):
        chunk = np.frombuffer(data, dtype=np.uint8, count=min(_CHUNK, len(data) - start), offset=start)
        quotes = _unescaped_quotes(chunk, backslashes)
        backslashes = _trailing_backslashes(chunk, backslashes)
        if not quotes.size and in_string:
            continue  # the whole chunk is inside one string
        nesting, values = _NESTING[chunk], _VALUES[chunk]
        if quotes.size:
            toggles = np.zeros(len(chunk), dtype=np.uint8)
            toggles[quotes] = 1
            toggles[0] ^= in_string
            outside = np.bitwise_xor.accumulate(toggles) ^ 1  # 1 outside a string (an opening quote counts inside)
            in_string = int(outside[-1] ^ 1)
            nesting, values = nesting * outside.view(np.int8), values * outside.view(np.int8)
        items += int(values.sum(dtype=np.int64))
        levels = depth + np.cumsum(nesting, dtype=np.int64)
        deepest = max(deepest, int(levels.max()))
        depth = int(levels[-1])
    return deepest, items


def _unescaped_quotes(chunk: np.ndarray, carried: int) -> np.ndarray:
    """Where the chunk's quotes that delimit a string are: those after an even run of backslashes (`carried`:
    the backslashes that ended the previous chunk)."""
    quotes = np.flatnonzero(chunk == _QUOTE)
    if not quotes.size:
        return quotes
    backslash = chunk == _BACKSLASH
    after = quotes[quotes > 0]
    after = after[backslash[after - 1]]  # quotes right after a backslash: is the run before them odd?
    if not after.size and not (carried % 2 and quotes[0] == 0):
        return quotes
    starts = np.flatnonzero(backslash[1:] & ~backslash[:-1]) + 1  # where runs of backslashes begin
    if backslash[0]:
        starts = np.concatenate(([0], starts))
    begin = starts[np.searchsorted(starts, after - 1, side="right") - 1]
    run = after - begin + np.where(begin == 0, carried, 0)
    escaped = np.zeros(len(chunk), dtype=bool)
    escaped[after[run % 2 == 1]] = True
    escaped[0] = bool(carried % 2 and quotes[0] == 0)
    return quotes[~escaped[quotes]]


def _trailing_backslashes(chunk: np.ndarray, carried: int) -> int:
    """How many backslashes end the chunk (with `carried`, those before it, when it is nothing but backslashes)."""
    others = chunk[::-1] != _BACKSLASH
    last = int(others.argmax())
    return last if others[last] else carried + len(chunk)


def parse_json(data: bytes, max_depth: int, what: str, max_items: int = 1_000_000) -> Any:
    """JSON from hostile bytes: its nesting and its number of values measured before parsing (no
    RecursionError, no millions of Python objects). UTF-8 only: json_shape reads the bytes as UTF-8 does,
    and JSON in UTF-16 or UTF-32 (which `json.loads` would also take) could hide its brackets from it."""
    if json.detect_encoding(data[:4]) not in ("utf-8", "utf-8-sig"):
        raise UntrustedFileError(f"{what} is not UTF-8 text")
    depth, items = json_shape(data)
    if depth > max_depth:
        raise UntrustedFileError(f"{what} nests deeper than {max_depth} levels")
    if items > max_items:
        raise UntrustedFileError(f"{what} holds more than {max_items} values")
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise UntrustedFileError(f"{what} is not valid JSON ({str(exc)[:120]})") from None


def read_json(path: Path, limit: int, max_depth: int, max_items: int = 1_000_000) -> Any:
    """A JSON file handed in or written by a kernel: a regular file, at most `limit` bytes, shape checked."""
    return parse_json(read_bytes(path, limit), max_depth, Path(path).name, max_items)


def load_arrays(path: Path, limit: int, max_members: int = 10_000) -> dict[str, np.ndarray]:
    """The arrays of an .npz a kernel wrote: a regular file (no link), every member stored uncompressed,
    of a plain dtype, with a size that its shape accounts for, all together at most `limit` bytes."""
    fd = _open_regular(path)
    with os.fdopen(fd, "rb") as f:
        if os.fstat(f.fileno()).st_size > limit:
            raise UntrustedFileError(f"{Path(path).name} is over the limit of {limit / 2**20:.0f} MB")
        try:
            _check_end_record(f, Path(path).name, max_members)
            with zipfile.ZipFile(f) as archive:
                members = archive.infolist()
                _check_members(members, limit, max_members)
                return {m.filename[:-4]: _load_member(archive, m) for m in members}
        except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
            if isinstance(exc, UntrustedFileError):
                raise
            raise UntrustedFileError(f"{Path(path).name} is not a valid array archive ({str(exc)[:100]})") from None


_END_RECORD = struct.Struct("<4s4H2LH")  # the zip end-of-central-directory record, 22 bytes, at the very end
_ZIP64_LOCATOR = b"PK\x06\x07"  # the 20 bytes before it, in an archive with a zip64 directory
_DIRECTORY_ENTRY_BYTES = 46 + 64 + 32  # one central-directory entry: fixed part, a name (<= 64), a little extra


def _check_end_record(f: Any, name: str, max_members: int) -> None:
    """Refuse an archive by its end record alone, before zipfile reads and parses its central directory
    (a 53 MB directory listing one member a million times cost ~450 MB and ~25 s of the grader's): the record
    must be where np.savez puts it (the last 22 bytes, no comment, no zip64 directory), count at most
    `max_members` entries, and give the directory no more bytes than that many entries need."""
    size = os.fstat(f.fileno()).st_size
    if size < _END_RECORD.size:
        raise UntrustedFileError(f"{name} is not a valid array archive (too short)")
    f.seek(size - _END_RECORD.size)
    signature, disk, directory_disk, entries_here, entries, directory_size, _offset, comment = _END_RECORD.unpack(
        f.read(_END_RECORD.size)
    )
    if signature != b"PK\x05\x06" or comment or disk or directory_disk or entries_here != entries:
        raise UntrustedFileError(f"{name} is not an array archive as numpy writes it (its end record is odd)")
    if size >= _END_RECORD.size + 20:
        f.seek(size - _END_RECORD.size - 20)
        if f.read(4) == _ZIP64_LOCATOR:
            raise UntrustedFileError(f"{name} has a zip64 directory, which no result archive needs")
    if entries > max_members:
        raise UntrustedFileError(f"the array archive holds {entries} members")
    if directory_size > max(entries, 1) * _DIRECTORY_ENTRY_BYTES:
        raise UntrustedFileError(f"the array archive's directory is {directory_size} bytes for {entries} members")
    f.seek(0)


def _check_members(members: list[zipfile.ZipInfo], limit: int, max_members: int) -> None:
    """Refuse an archive before reading any member: too many members, a compressed one, odd names, too big."""
    if len(members) > max_members:
        raise UntrustedFileError(f"the array archive holds {len(members)} members")
    total = 0
    for m in members:
        if m.compress_type != zipfile.ZIP_STORED:
            raise UntrustedFileError("the array archive holds a compressed member")
        if not m.filename.endswith(".npy") or "/" in m.filename or len(m.filename) > 64:
            raise UntrustedFileError("the array archive holds a member that is not an array")
        total += m.file_size
        if total > limit:
            raise UntrustedFileError(f"the arrays are over the limit of {limit / 2**20:.0f} MB")


def _load_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> np.ndarray:
    """One .npy member: its header read first (plain dtype, size = shape x itemsize), then its data."""
    with archive.open(member) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        if dtype.hasobject or dtype.kind in "OV" or dtype.fields is not None:
            raise UntrustedFileError("the array archive holds an array of Python objects")
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        header = f.tell()
        if count < 0 or header + count * dtype.itemsize != member.file_size:
            raise UntrustedFileError("an array's size does not match its shape")
        array = np.empty(count, dtype=dtype)
        if count and f.readinto(memoryview(array).cast("B")) != count * dtype.itemsize:
            raise UntrustedFileError("an array is shorter than its shape says")
    return array.reshape(shape, order="F" if fortran else "C")


def safe_name(name: str) -> bool:
    """A file or folder name the grader is willing to handle (printable, no control characters, not huge)."""
    return 0 < len(name) <= 200 and all(c in _NAME_OK or ord(c) > 0x9F for c in name) and name not in (".", "..")


def walk_files(root: Path, suffix: str, max_depth: int = 8, max_entries: int = 20_000) -> Iterator[tuple[Path, str]]:
    """(path, problem) for each file under `root` whose name ends in `suffix`, walked without following
    symlinks, at most `max_depth` folders deep and `max_entries` entries in all; `problem` is "" for a
    regular file and says why the file will not be read otherwise (a link, a FIFO, an odd name)."""
    stack: list[tuple[Path, int]] = [(Path(root), 0)]
    seen = 0
    while stack:
        folder, depth = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            seen += 1
            if seen > max_entries:
                return
            if entry.name.startswith(".") or entry.name == "__MACOSX":
                continue
            path = Path(entry.path)
            if entry.is_dir(follow_symlinks=False):
                if depth + 1 < max_depth and safe_name(entry.name):
                    stack.append((path, depth + 1))
                continue
            if not entry.name.lower().endswith(suffix.lower()):  # NAME.IPYNB too
                continue
            yield path, _entry_problem(entry)


def _entry_problem(entry: os.DirEntry) -> str:
    """Why a found file will not be read ("" when it is an ordinary regular file)."""
    if not safe_name(entry.name):
        return "its name holds characters the grader does not accept"
    if entry.is_symlink():
        return "it is a symbolic link, not a file"
    try:
        mode = entry.stat(follow_symlinks=False).st_mode
    except OSError:
        return "it cannot be read"
    return "" if stat.S_ISREG(mode) else "it is not a regular file"


#: pids of the grader's own helper processes while they run (`rm`, `chmod`): the sweep of processes that
#: kernels left behind (sandbox.sweep_orphans) must not take them for a kernel's
OWN_HELPERS: set[int] = set()
OWN_HELPERS_LOCK = threading.Lock()  # held from the start of a helper until its pid is listed


def _run_own_helper(argv: list[str]) -> None:
    with OWN_HELPERS_LOCK:
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        OWN_HELPERS.add(process.pid)
    try:
        process.wait()
    finally:
        OWN_HELPERS.discard(process.pid)


def remove_tree(path: Path) -> None:
    """Remove a folder a kernel wrote into, however deep, read-only or odd it is, never following a link out.

    GNU `rm -rf` walks without recursion limits and never follows symlinks; a folder the kernel made
    unreadable is opened up (chmod, again without following links) and removed on a second pass."""
    path = Path(path)
    if not (path.exists() or path.is_symlink()):
        return
    for attempt in range(2):
        _run_own_helper(["rm", "-rf", "--one-file-system", "--", str(path)])
        if not (path.exists() or path.is_symlink()):
            return
        if attempt == 0:
            _run_own_helper(["chmod", "-R", "u+rwx", "--", str(path)])
