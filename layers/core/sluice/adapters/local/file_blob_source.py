"""BlobSource over the local file system.

Sources are absolute POSIX paths, so a document keeps its id however the
folder it lives in is named on the command line.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from sluice.domain.errors import NotFoundError
from sluice.domain.models import Blob, BlobInfo

SIDECAR_SUFFIX = ".metadata.json"


class FileBlobSource:
    """Reads documents (and their sidecars) from folders on disk.

    ``list`` skips hidden files and folders (such as the ``.sluice`` state) and
    sidecars. ``put`` writes under ``upload_dir`` atomically.
    """

    def __init__(self, upload_dir: Path | None = None) -> None:
        self._upload_dir = upload_dir

    def list(self, prefix: str = "") -> Iterator[BlobInfo]:
        root = Path(prefix).resolve()
        if root.is_file():
            yield _info(root)
            return
        if not root.is_dir():
            raise NotFoundError(f"{prefix} does not exist; give a file or a folder that exists")
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if name.startswith(".") or name.endswith(SIDECAR_SUFFIX):
                    continue
                path = Path(folder) / name
                if path.is_file():
                    yield _info(path)

    def read(self, source: str) -> Blob:
        path = Path(source)
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise NotFoundError(f"{source} does not exist") from exc
        except IsADirectoryError as exc:
            raise NotFoundError(f"{source} is a folder; give a file") from exc
        sidecar = Path(source + SIDECAR_SUFFIX)
        return Blob(source=source, data=data, sidecar=sidecar.read_bytes() if sidecar.is_file() else None)

    def stat(self, source: str) -> BlobInfo | None:
        path = Path(source)
        return _info(path) if path.is_file() else None

    def put(self, source: str, data: bytes) -> BlobInfo:
        if self._upload_dir is None:
            raise NotFoundError("this source has no upload folder")
        target = (self._upload_dir / Path(source).name).resolve()
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
        return _info(target)

    def delete(self, source: str) -> None:
        for path in (Path(source), Path(source + SIDECAR_SUFFIX)):
            path.unlink(missing_ok=True)


def _info(path: Path) -> BlobInfo:
    st = path.stat()
    return BlobInfo(source=path.resolve().as_posix(), size=st.st_size)
