"""Model files: verified before anything is unpickled, optionally signed, written atomically."""

import hashlib
import json
import pickle
import struct

import numpy as np
import pandas as pd
import pytest

from synth_assets import GaussianCopulaSynthesizer, Metadata, load_synthesizer, persistence
from synth_assets.persistence import SIGNING_KEY_ENV, ModelFileError


class _Booby:
    """Unpickling this creates a marker file: proof that a refused file was never unpickled."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _envelope(payload: bytes, **header_overrides) -> bytes:
    """A well-formed envelope around any payload, as an attacker could build one."""
    header = {
        "format_version": persistence.FORMAT_VERSION,
        "package_version": "0.1.0",
        "object_type": "x",
        "sha256": hashlib.sha256(payload).hexdigest(),
        "payload_size": len(payload),
    }
    header.update(header_overrides)
    header_bytes = json.dumps(header).encode()
    return persistence.MAGIC + struct.pack(">I", len(header_bytes)) + header_bytes + payload


@pytest.fixture(autouse=True)
def no_signing_key(monkeypatch):
    monkeypatch.delenv(SIGNING_KEY_ENV, raising=False)


@pytest.fixture(scope="module")
def synthesizer():
    rng = np.random.default_rng(0)
    n = 400
    real = pd.DataFrame(
        {
            "id": np.arange(n),
            "email": [f"u{i}@corp.example" for i in range(n)],
            "a": rng.normal(size=n).round(3),
            "b": rng.choice(["x", "y", "z"], n),
            "when": pd.date_range("2022-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
        }
    )
    model = GaussianCopulaSynthesizer(Metadata.detect_from_dataframe(real))
    model.fit(real)
    return model


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / "UNPICKLED"
    yield path
    assert not path.exists(), "a refused file was unpickled"


def test_save_load_round_trip_samples_identically(synthesizer, tmp_path):
    path = tmp_path / "model.pkl"
    synthesizer.set_random_state(9)
    synthesizer.save(path)
    loaded = load_synthesizer(path)
    assert isinstance(loaded, GaussianCopulaSynthesizer)
    assert loaded.get_parameters() == synthesizer.get_parameters()
    assert loaded.get_metadata() == synthesizer.get_metadata()
    pd.testing.assert_frame_equal(loaded.sample(200), synthesizer.sample(200))
    again = GaussianCopulaSynthesizer.load(path)
    again.set_random_state(3)
    synthesizer.set_random_state(3)
    pd.testing.assert_frame_equal(again.sample(50), synthesizer.sample(50))
    assert [p.name for p in tmp_path.iterdir()] == ["model.pkl"]


def test_envelope_header_describes_the_payload(synthesizer):
    blob = persistence.dumps(synthesizer)
    header, payload = persistence.read_header(blob)
    assert header["format_version"] == persistence.FORMAT_VERSION
    assert header["package_version"] == "0.1.0"
    assert header["object_type"].endswith("GaussianCopulaSynthesizer")
    assert header["sha256"] == hashlib.sha256(payload).hexdigest()
    assert header["payload_size"] == len(payload)
    assert "hmac_sha256" not in header


def test_model_file_holds_no_real_pii(synthesizer):
    assert b"corp.example" not in persistence.dumps(synthesizer)


@pytest.mark.parametrize("cut", [0, 5, len(persistence.MAGIC) + 2, len(persistence.MAGIC) + 20, -1, -500])
def test_truncated_files_are_refused(synthesizer, tmp_path, cut):
    blob = persistence.dumps(synthesizer)
    path = tmp_path / "model.pkl"
    path.write_bytes(blob[:cut])
    with pytest.raises(ModelFileError):
        load_synthesizer(path)


def test_tampered_payload_is_refused(synthesizer, tmp_path):
    blob = bytearray(persistence.dumps(synthesizer))
    blob[-100] ^= 0x01  # flip one payload bit
    path = tmp_path / "model.pkl"
    path.write_bytes(bytes(blob))
    with pytest.raises(ModelFileError, match="SHA-256"):
        load_synthesizer(path)


def test_swapped_payload_is_refused_before_unpickling(synthesizer, marker):
    header, _ = persistence.read_header(persistence.dumps(synthesizer))
    evil = pickle.dumps(_Booby(marker))
    header_bytes = json.dumps(header).encode()  # the real header, a different payload
    forged = persistence.MAGIC + struct.pack(">I", len(header_bytes)) + header_bytes + evil
    with pytest.raises(ModelFileError):
        persistence.loads(forged)


def test_foreign_files_are_refused_before_unpickling(tmp_path, marker):
    plain_pickle = tmp_path / "plain.pkl"
    plain_pickle.write_bytes(pickle.dumps(_Booby(marker)))
    with pytest.raises(ModelFileError, match="not a synth_assets model file"):
        load_synthesizer(plain_pickle)
    noise = tmp_path / "noise.bin"
    noise.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(ModelFileError, match="not a synth_assets model file"):
        load_synthesizer(noise)
    garbage_header = persistence.MAGIC + struct.pack(">I", 7) + b"{broken" + pickle.dumps(_Booby(marker))
    with pytest.raises(ModelFileError, match="corrupt header"):
        persistence.loads(garbage_header)
    with pytest.raises(ValueError, match="No model file"):
        load_synthesizer(tmp_path / "missing.pkl")


def test_wrong_format_version_is_refused_before_unpickling(marker):
    # Self-consistent checksum, unknown format version.
    blob = _envelope(pickle.dumps(_Booby(marker)), format_version=persistence.FORMAT_VERSION + 1)
    with pytest.raises(ModelFileError, match="format version 2"):
        persistence.loads(blob)
    with pytest.raises(ModelFileError, match="corrupt file"):  # no version at all: corrupt, not "refit"
        persistence.loads(_envelope(pickle.dumps(_Booby(marker)), format_version=None))


def test_crafted_envelope_passing_every_check_still_cannot_run_code(marker):
    # Self-consistent checksum and a real synthesizer type: only the allow-list unpickler stands in
    # the way, and it refuses `open` (tests/test_safe_unpickle.py shows the gadget fires under pickle).
    blob = _envelope(pickle.dumps(_Booby(marker)), object_type=f"{GaussianCopulaSynthesizer.__module__}.GaussianCopulaSynthesizer")
    with pytest.raises(ModelFileError, match="refusing to load it"):
        persistence.loads(blob)


def test_signed_files(synthesizer, tmp_path, monkeypatch, marker):
    unsigned = persistence.dumps(synthesizer)
    monkeypatch.setenv(SIGNING_KEY_ENV, "correct horse")
    signed = persistence.dumps(synthesizer)
    header, payload = persistence.read_header(signed)
    assert len(header["hmac_sha256"]) == 64
    assert isinstance(persistence.loads(signed), GaussianCopulaSynthesizer)

    with pytest.raises(ModelFileError, match="unsigned"):
        persistence.loads(unsigned)
    # A valid checksum is not enough once a key is set: the attacker cannot compute the HMAC.
    with pytest.raises(ModelFileError, match="unsigned"):
        persistence.loads(_envelope(pickle.dumps(_Booby(marker))))
    for bogus in ("0" * 64, 123, "é" * 64):  # not even a string / not ASCII: still refused cleanly
        with pytest.raises(ModelFileError, match="signature"):
            persistence.loads(_envelope(pickle.dumps(_Booby(marker)), hmac_sha256=bogus))

    monkeypatch.setenv(SIGNING_KEY_ENV, "wrong key")
    with pytest.raises(ModelFileError, match="wrong signature"):
        persistence.loads(signed)
    path = tmp_path / "signed.pkl"
    path.write_bytes(signed)
    with pytest.raises(ModelFileError, match="wrong signature"):
        load_synthesizer(path)


def test_atomic_write_keeps_the_previous_file_when_replace_fails(synthesizer, tmp_path, monkeypatch):
    path = tmp_path / "model.pkl"
    synthesizer.save(path)
    before = path.read_bytes()

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(persistence.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        persistence.save_synthesizer(synthesizer, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.pkl"]  # no temp file left


def test_atomic_write_cleans_up_when_the_write_fails(tmp_path, monkeypatch):
    path = tmp_path / "model.pkl"
    persistence.atomic_write_bytes(path, b"old contents")

    def failing_fsync(fd):
        raise OSError("I/O error")

    monkeypatch.setattr(persistence.os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="I/O error"):
        persistence.atomic_write_bytes(path, b"new contents")
    assert path.read_bytes() == b"old contents"
    assert [p.name for p in tmp_path.iterdir()] == ["model.pkl"]


def test_atomic_write_interrupted_leaves_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "data.parquet"
    frame = pd.DataFrame({"a": [1, 2, 3]})
    persistence.atomic_write_dataframe(frame, path)
    monkeypatch.setattr(persistence.os, "replace", lambda src, dst: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        persistence.atomic_write_dataframe(frame.assign(a=[9, 9, 9]), path)
    pd.testing.assert_frame_equal(pd.read_parquet(path), frame)
    assert [p.name for p in tmp_path.iterdir()] == ["data.parquet"]


def test_atomic_write_creates_parents_and_csv(tmp_path):
    path = tmp_path / "a" / "b" / "out.csv"
    persistence.atomic_write_dataframe(pd.DataFrame({"x": [1, 2]}), path)
    assert path.read_text().splitlines() == ["x", "1", "2"]


def test_stale_temp_file_of_a_killed_writer_is_removed_on_the_next_write(synthesizer, tmp_path):
    path = tmp_path / "model.pkl"
    # What `kill -9` during atomic_write leaves: a temp file of the target, nobody holding it.
    stale = tmp_path / ".model.pkl.k1ll3d.tmp"
    stale.write_bytes(b"half a model")
    other_target = tmp_path / ".other.pkl.k1ll3d.tmp"  # another target's temp file is not ours to judge
    other_target.write_bytes(b"x")
    synthesizer.save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.pkl.k1ll3d.tmp", "model.pkl"]
    assert isinstance(load_synthesizer(path), GaussianCopulaSynthesizer)


def test_live_temp_file_of_a_concurrent_writer_is_kept(tmp_path):
    fcntl = pytest.importorskip("fcntl")
    path = tmp_path / "data.bin"
    live = tmp_path / ".data.bin.w0rk1ng.tmp"
    with open(live, "wb") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # as atomic_write holds its temp file
        persistence.atomic_write_bytes(path, b"new")
        assert live.exists()
    assert path.read_bytes() == b"new"
    persistence.atomic_write_bytes(path, b"newer")  # the writer is gone: now it is stale
    assert not live.exists()


def test_killed_writer_leaves_a_temp_file_that_the_next_write_removes(tmp_path):
    import os
    import signal
    import subprocess
    import sys

    path = tmp_path / "model.bin"
    script = (
        "import sys, time\n"
        "from synth_assets import persistence\n"
        "def slow(handle):\n"
        "    handle.write(b'partial'); handle.flush(); print('writing', flush=True); time.sleep(60)\n"
        f"persistence.atomic_write({str(path)!r}, slow)\n"
    )
    writer = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, env={**os.environ})
    assert writer.stdout.readline().strip() == b"writing"
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    leftovers = [p.name for p in tmp_path.iterdir()]
    assert len(leftovers) == 1 and leftovers[0].startswith(".model.bin.")  # the kill left its temp file
    persistence.atomic_write_bytes(path, b"complete")
    assert [p.name for p in tmp_path.iterdir()] == ["model.bin"]
    assert path.read_bytes() == b"complete"
