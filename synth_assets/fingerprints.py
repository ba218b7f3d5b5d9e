"""Content fingerprints of source files: SHA-256 of the bytes (not the mtime), so a touched but
unchanged file counts as unchanged. Local paths or any fsspec URL; no Dagster."""

from __future__ import annotations

import hashlib

_CHUNK = 1 << 20


def _fs_and_path(path: str):
    from fsspec.core import url_to_fs

    return url_to_fs(path)


def _stamp(info: dict):
    """A cheap change marker (size + modification time / ETag) used to skip re-hashing."""
    for key in ('mtime', 'LastModified', 'last_modified', 'ETag', 'etag', 'md5Hash', 'CRC',
                'date_time', 'created'):
        if info.get(key) is not None:
            return [info.get('size'), str(info[key])]
    return None


def content_fingerprint(path: str) -> str:
    """'sha256:<hex>' of the bytes at ``path`` (local path or fsspec URL; a directory hashes
    its files' relative names and contents in sorted order)."""
    fs, root = _fs_and_path(path)
    digest = hashlib.sha256()
    if fs.isdir(root):
        files = sorted(p for p in fs.find(root) if not p.rsplit('/', 1)[-1].startswith('.'))
        for file in files:
            digest.update(file[len(root):].encode() + b'\0')
            with fs.open(file, 'rb') as handle:
                for chunk in iter(lambda: handle.read(_CHUNK), b''):
                    digest.update(chunk)
    else:
        with fs.open(root, 'rb') as handle:
            for chunk in iter(lambda: handle.read(_CHUNK), b''):
                digest.update(chunk)
    return f'sha256:{digest.hexdigest()}'


def fingerprint_file(path: str, previous: dict | None = None) -> dict:
    """{'fingerprint', 'stamp'} for ``path``; reuses ``previous['fingerprint']`` when the file's
    size and modification stamp are unchanged (a touched file is re-hashed, nothing more)."""
    fs, root = _fs_and_path(path)
    stamp = None if fs.isdir(root) else _stamp(fs.info(root))
    if previous and stamp is not None and previous.get('stamp') == stamp \
            and previous.get('fingerprint'):
        return {'fingerprint': previous['fingerprint'], 'stamp': stamp}
    return {'fingerprint': content_fingerprint(path), 'stamp': stamp}
