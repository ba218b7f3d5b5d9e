"""Model files: a pickle inside an integrity-checked envelope, written atomically.

Layout: MAGIC | 4-byte header length | JSON header | payload. The header carries the format
version, the package version, the synthesizer's class (`object_type`), the payload's SHA-256 and,
when SYNTH_ASSETS_SIGNING_KEY is set, an HMAC-SHA256. Everything is verified before a single byte
is unpickled, and the payload is unpickled by `SafeUnpickler`, which rebuilds only the classes our
synthesizers are made of: a file that passes every check still cannot run code (SECURITY.md).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import pickle
import struct
import tempfile
from pathlib import Path

from synth_assets.errors import ModelFileError
from synth_assets.safe_unpickle import resolve_model_type, safe_loads

MAGIC = b"SYNTHASSETS\x00"
FORMAT_VERSION = 1
SIGNING_KEY_ENV = "SYNTH_ASSETS_SIGNING_KEY"
# Header fields every file has, and their JSON types: anything else is a corrupt file.
_HEADER_FIELDS = {"format_version": int, "object_type": str, "sha256": str, "payload_size": int}


def _package_version() -> str:
    from synth_assets import __version__

    return __version__


def _signing_key() -> bytes | None:
    key = os.environ.get(SIGNING_KEY_ENV)
    return key.encode() if key else None


def _type_name(obj) -> str:
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def dumps(obj) -> bytes:
    object_type = _type_name(obj)  # loading refuses any type outside safe_unpickle.MODEL_TYPES
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    header = {
        "format_version": FORMAT_VERSION,
        "package_version": _package_version(),
        "object_type": object_type,
        "sha256": hashlib.sha256(payload).hexdigest(),
        "payload_size": len(payload),
    }
    key = _signing_key()
    if key is not None:
        header["hmac_sha256"] = hmac.new(key, payload, hashlib.sha256).hexdigest()
    header_bytes = json.dumps(header, sort_keys=True).encode()
    return MAGIC + struct.pack(">I", len(header_bytes)) + header_bytes + payload


def read_header(data: bytes, source: str = "model file") -> tuple[dict, bytes]:
    if not data.startswith(MAGIC):
        raise ModelFileError(f"{source} is not a synth_assets model file (bad magic); refusing to load it.")
    offset = len(MAGIC)
    if len(data) < offset + 4:
        raise ModelFileError(f"{source} is truncated (no header).")
    (header_length,) = struct.unpack(">I", data[offset : offset + 4])
    offset += 4
    if len(data) < offset + header_length:
        raise ModelFileError(f"{source} is truncated (the header is cut short).")
    try:
        header = json.loads(data[offset : offset + header_length])
    except (ValueError, UnicodeDecodeError) as error:
        raise _corrupt(source, f"its header is not JSON ({error})") from error
    if not isinstance(header, dict):
        raise _corrupt(source, "its header is not a JSON object")
    _check_field(header, "format_version", source)
    return header, data[offset + header_length :]


def _check_field(header: dict, field: str, source: str) -> None:
    value = header.get(field)
    if not isinstance(value, _HEADER_FIELDS[field]) or isinstance(value, bool):
        raise _corrupt(source, f"its {field!r} is {value!r}")


def _corrupt(source: str, problem: str) -> ModelFileError:
    return ModelFileError(f"{source} is a corrupt file (corrupt header: {problem}); refusing to load it. Refit and save again.")


def loads(data: bytes, source: str = "model file", expected_type: type | None = None):
    """The synthesizer in `data`, after every check; `expected_type` refuses other classes unopened."""
    header, payload = read_header(data, source)
    _check_integrity(header, payload, source)
    model_type = _check_model_type(header["object_type"], expected_type, source)
    obj = safe_loads(payload, source)
    if type(obj) is not model_type:
        raise ModelFileError(f"{source} holds a {_type_name(obj)} although its header says {header['object_type']}; it was tampered with.")
    return obj


def _check_model_type(object_type: str, expected_type: type | None, source: str) -> type:
    try:
        model_type = resolve_model_type(object_type)
    except ModelFileError as error:
        raise ModelFileError(f"{source}: {error}; refusing to load it.") from None
    if expected_type is not None and not issubclass(model_type, expected_type):
        raise ModelFileError(
            f"{source} holds a {model_type.__name__}, not a {expected_type.__name__}; "
            f"load it with {model_type.__name__}.load or synth_assets.load_synthesizer."
        )
    return model_type


def _check_integrity(header: dict, payload: bytes, source: str) -> None:
    if header["format_version"] != FORMAT_VERSION:
        raise ModelFileError(
            f"{source} uses format version {header.get('format_version')!r}; this synth_assets "
            f"({_package_version()}) reads version {FORMAT_VERSION}. Refit the synthesizer."
        )
    for field in _HEADER_FIELDS:
        _check_field(header, field, source)
    if len(payload) != header.get("payload_size"):
        raise ModelFileError(f"{source} is truncated: {len(payload)} of {header.get('payload_size')} payload bytes.")
    if hashlib.sha256(payload).hexdigest() != header.get("sha256"):
        raise ModelFileError(f"{source} failed its SHA-256 check: it was modified or corrupted.")
    key = _signing_key()
    if key is not None:
        signature = header.get("hmac_sha256")
        if signature is None:
            raise ModelFileError(f"{source} is unsigned, but {SIGNING_KEY_ENV} is set: only signed files load.")
        expected = hmac.new(key, payload, hashlib.sha256).hexdigest()
        # compare_digest raises TypeError on non-str or non-ASCII input: a crafted header must
        # still be refused with ModelFileError.
        if not isinstance(signature, str) or not hmac.compare_digest(signature.encode(), expected.encode()):
            raise ModelFileError(f"{source} has a wrong signature (HMAC): signed with another key or tampered.")


def atomic_write(filepath, write) -> None:
    """`write(binary_file)` into a temp file in the same directory, fsync, rename: readers see
    the old file or the new one, and a failed write leaves no temp file behind.

    The temp file is locked (flock) until it is renamed, so a writer killed with -9 — which cannot
    clean up — leaves an unlocked temp file that the next write of the same target removes, while a
    concurrent writer's live temp file is kept.
    """
    path = Path(filepath)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temp_files(path)
    fd, tmp_name = _locked_temp_file(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
            os.replace(tmp_name, path)  # still locked: never mistaken for a killed writer's file
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


_TEMP_SUFFIX = ".tmp"
_UNLOCKABLE_STALE_SECONDS = 3600  # where flock is missing (Windows), only old temp files are stale


def _try_lock(fd: int) -> bool:
    """Take an exclusive non-blocking lock on `fd`; False when another process holds it."""
    try:
        import fcntl
    except ImportError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _locked_temp_file(path: Path) -> tuple[int, str]:
    for _ in range(5):
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=_TEMP_SUFFIX, dir=path.parent)
        _try_lock(fd)
        if os.fstat(fd).st_nlink:  # a concurrent sweep took it for stale before we locked it: retry
            return fd, name
        os.close(fd)
    raise OSError(f"could not create a temporary file next to '{path}'")


def _is_stale(candidate: Path, fd: int) -> bool:
    try:
        import fcntl  # noqa: F401
    except ImportError:
        import time

        return time.time() - candidate.stat().st_mtime > _UNLOCKABLE_STALE_SECONDS
    return _try_lock(fd)


def _remove_stale_temp_files(path: Path) -> None:
    """Remove temp files of `path` left by killed writers: those whose lock nobody holds."""
    import glob

    for candidate in path.parent.glob(f".{glob.escape(path.name)}.*{_TEMP_SUFFIX}"):
        try:
            with open(candidate, "rb") as handle:
                stale = _is_stale(candidate, handle.fileno())
            if stale:
                candidate.unlink(missing_ok=True)
        except OSError:
            continue  # gone meanwhile, or not ours to remove: leave it


def atomic_write_bytes(filepath, data: bytes) -> None:
    atomic_write(filepath, lambda handle: handle.write(data))


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_dataframe(frame, filepath) -> None:
    """Write a DataFrame as parquet (or CSV for a .csv path) without ever exposing a partial file."""
    import io

    buffer = io.BytesIO()
    if str(filepath).endswith(".csv"):
        buffer.write(frame.to_csv(index=False).encode())
    else:
        frame.to_parquet(buffer, index=False)
    atomic_write_bytes(filepath, buffer.getvalue())


def save_synthesizer(synthesizer, filepath) -> None:
    atomic_write_bytes(filepath, dumps(synthesizer))


def load_synthesizer(filepath, expected_type: type | None = None):
    """Load a synthesizer saved with `save`; the file is verified before anything is unpickled, and
    a file whose header names another class than `expected_type` (or a subclass) is not unpickled."""
    path = Path(filepath)
    if not path.is_file():
        raise ModelFileError(f"No model file at '{filepath}'.")
    return loads(path.read_bytes(), source=f"'{filepath}'", expected_type=expected_type)
