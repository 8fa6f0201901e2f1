"""What a grading kernel holds, counted by the grader from outside: the disk under its work folder, and the
memory and disk held by files it keeps open but that no folder shows (unlinked files, memfds).

Counting names is not enough: a kernel can write a file, keep it open and unlink it (disk that no folder
walk sees), or write into `memfd_create` files (memory that no process's RSS shows), or hide a folder from
the grader by taking its own read permission away. Each of these is counted here or reported as such."""

from __future__ import annotations

import contextlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class FolderUsage:
    """Bytes and entries under a folder (counted until a limit is passed), and the folders the grader could
    not list even after giving their owner back the right to (a kernel hiding its files)."""

    bytes: int = 0
    entries: int = 0
    hidden: int = 0


def folder_usage(path: Path, stop_bytes: int, stop_entries: int) -> FolderUsage:
    """What is under `path`, never following a link, counted until either limit is passed. A folder the
    grader may not list (its owner, the kernel's user, removed the read right: as an ordinary user the
    grader is that owner) is given u+rwx back and listed; one that still cannot be listed is `hidden`."""
    out = FolderUsage()
    stack = [str(path)]
    while stack and out.bytes <= stop_bytes and out.entries <= stop_entries:
        folder = stack.pop()
        found = _opened(folder)
        if found is None:
            out.hidden += 1
            continue
        with found as entries:
            for entry in entries:
                out.entries += 1
                try:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    elif entry.is_file(follow_symlinks=False):
                        out.bytes += entry.stat(follow_symlinks=False).st_blocks * 512
                except OSError:
                    continue
                if out.bytes > stop_bytes or out.entries > stop_entries:
                    break
    return out


def _opened(folder: str) -> Any:
    """`os.scandir(folder)` (empty when the folder is gone); None when it cannot be listed even after
    chmod u+rwx."""
    for attempt in range(2):
        try:
            return os.scandir(folder)
        except FileNotFoundError:
            return contextlib.nullcontext(iter(()))
        except PermissionError:
            if attempt:
                return None
            try:
                os.chmod(folder, stat.S_IRWXU | (os.lstat(folder).st_mode & 0o077), follow_symlinks=False)
            except OSError:
                return None
        except OSError:
            break
    return contextlib.nullcontext(iter(()))


@dataclass
class OpenFiles:
    """What a kernel's processes hold in open files that no folder shows: bytes in memfds (memory), bytes in
    unlinked files (disk), and the number of open descriptors."""

    memory: int = 0
    disk: int = 0
    descriptors: int = 0


def open_files_held(pids: list[int]) -> OpenFiles:
    """Sum, over the open descriptors of `pids`, the allocated size of each memfd and each unlinked regular
    file (each file once, however many descriptors share it). Descriptors the grader may not inspect are
    skipped (then only RLIMIT_NOFILE x RLIMIT_FSIZE bounds them)."""
    out, seen = OpenFiles(), set()
    for pid in pids:
        folder = f"/proc/{pid}/fd"
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        out.descriptors += len(names)
        for name in names:
            path = f"{folder}/{name}"
            try:
                info = os.stat(path)  # follows the magic link to the open file, unlinked or not
                target = os.readlink(path)
            except OSError:
                continue
            key = (info.st_dev, info.st_ino)
            if key in seen or not stat.S_ISREG(info.st_mode):
                continue
            seen.add(key)
            if target.startswith("/memfd:"):
                out.memory += info.st_blocks * 512
            elif info.st_nlink == 0:
                out.disk += info.st_blocks * 512
    return out
