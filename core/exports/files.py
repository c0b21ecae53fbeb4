"""The files of an export: each hashed while it is written, piece by piece, and listed for the manifest
without keeping the list in memory (an email export writes one file per record)."""

from __future__ import annotations

import hashlib
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

FILE_LIST = ".files"  # the names and hashes written so far, one a line; gone once the manifest is written


class HashedFile:
    """A new file written in pieces; its sha256 and size follow every write."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("xb")  # never over a file already there: each export has a directory of its own
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self._file.write(data)
        self._hash.update(data)
        self.size += len(data)

    def close(self) -> str:
        """Close the file; its sha256 in hex."""
        self._file.close()
        return self._hash.hexdigest()


class TextSink:
    """HashedFile as the text file csv.writer wants: strings in, UTF-8 out."""

    def __init__(self, file: HashedFile) -> None:
        self._file = file

    def write(self, text: str) -> int:
        self._file.write(text.encode())
        return len(text)


class FileList:
    """The files of an export and their sha256, in the order written, kept on disk beside them."""

    def __init__(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        self.out = out
        self.count = 0
        self.size = 0
        self._path = out / FILE_LIST
        self._list: IO[str] = self._path.open("x", encoding="utf-8")

    def write(self, name: str, data: bytes) -> None:
        """A whole small file (an email, the manifest) at once."""
        file = HashedFile(self.out / name)
        file.write(data)
        self.add(name, file)

    def add(self, name: str, file: HashedFile) -> None:
        """Close `file`, written under `name` (relative to the export's directory, with /), and list it."""
        digest = file.close()
        self._list.write(f"{name}\t{digest}\n")
        self.count += 1
        self.size += file.size

    def entries(self) -> Iterator[tuple[str, str]]:
        """(name, sha256) of every file listed, read back from disk; the list is closed for writing."""
        self._list.close()
        with self._path.open(encoding="utf-8") as listed:
            for line in listed:
                name, digest = line.rstrip("\n").split("\t")
                yield name, digest

    def discard(self) -> None:
        self._list.close()
        self._path.unlink(missing_ok=True)


class Stopped(Exception):
    """Work in a thread told to stop."""


def zip_directory(directory: Path, into: Path, stop: threading.Event | None = None) -> int:
    """Every file under `directory` into the zip `into` (deflated), one file at a time and each read in
    pieces, written under a temporary name first so that a zip found there is whole; its size in bytes.
    `stop` set ends it between two files (Stopped), the partial zip removed."""
    partial = into.with_name(into.name + ".partial")
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(directory.rglob("*")):
                if stop is not None and stop.is_set():
                    raise Stopped(f"zipping {directory.name} stopped")
                if path.is_file():
                    archive.write(path, path.relative_to(directory).as_posix())
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(into)
    return into.stat().st_size
