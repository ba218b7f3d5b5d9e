"""Model files cannot run code: every synthesizer kind round-trips through the allow-list unpickler,
and a battery of gadget pickles in valid envelopes is refused before any of it runs."""

import hashlib
import importlib
import io
import json
import pickle
import struct
import warnings

import numpy as np
import pandas as pd
import pytest

from synth_assets import persistence
from synth_assets.errors import ModelFileError
from synth_assets.metadata import Metadata
from synth_assets.persistence import SIGNING_KEY_ENV, load_synthesizer
from synth_assets.safe_unpickle import ALLOWED_GLOBALS, MODEL_TYPES, SafeUnpickler
from synth_assets.single_table.marginals import DISTRIBUTIONS

COPULA_TYPE = "synth_assets.single_table.gaussian_copula.GaussianCopulaSynthesizer"


@pytest.fixture(autouse=True)
def no_signing_key(monkeypatch):
    monkeypatch.delenv(SIGNING_KEY_ENV, raising=False)


def _envelope(payload: bytes, object_type: str = COPULA_TYPE, **overrides) -> bytes:
    """A valid envelope (correct SHA-256, known object_type) around any payload, as an attacker can build one."""
    header = {
        "format_version": persistence.FORMAT_VERSION, "package_version": "0.1.0", "object_type": object_type,
        "sha256": hashlib.sha256(payload).hexdigest(), "payload_size": len(payload), **overrides,
    }
    header_bytes = json.dumps(header).encode()
    return persistence.MAGIC + struct.pack(">I", len(header_bytes)) + header_bytes + payload


# -- every synthesizer kind round-trips ---------------------------------------------------------------
def _table(n=120, distributions=DISTRIBUTIONS):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"id": np.arange(n), "email": [f"u{i}@corp.example" for i in range(n)],
                          "b": rng.choice(["x", "y", "z"], n), "flag": rng.choice([True, False], n),
                          "when": pd.date_range("2022-01-01", periods=n, freq="D"),
                          "miss": np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n))})
    for i, _ in enumerate(distributions):  # one column per distribution: one copula holds them all
        frame[f"x{i}"] = rng.gamma(2.0, 1.0, n).round(3)
    metadata = Metadata.detect_from_dataframe(frame, "t")
    metadata.update_column("id", sdtype="id")
    metadata.set_primary_key("id")
    metadata.update_column("email", sdtype="email", pii=True)
    return frame, metadata


def _panel():
    rng = np.random.default_rng(1)
    rows = [{"entity": f"E{e:03d}", "t": pd.Timestamp("2020-01-01") + pd.Timedelta(days=s), "dir": ["up", "down"][e % 2],
             "v": float(rng.normal()), "cat": ["a", "b"][s % 2]}
            for e in range(24) for s in range(int(rng.integers(2, 6)))]
    panel = pd.DataFrame(rows)
    metadata = Metadata.detect_from_dataframe(panel, "panel")
    metadata.update_column("entity", sdtype="id")
    metadata.set_sequence_key("entity")
    metadata.set_sequence_index("t")
    return panel, metadata


def _fit(kind):
    from synth_assets import single_table
    from synth_assets.multi_table import IndependentSynthesizer
    from multi_table_demo import make_demo_data
    from synth_assets.sequential import PARSynthesizer

    if kind == "PARSynthesizer":
        panel, metadata = _panel()
        model = PARSynthesizer(metadata, context_columns=["dir"], epochs=2, enable_gpu=False, seed=0)
        model.fit(panel)
        return model, lambda m: m.sample(num_sequences=3)
    if kind == "IndependentSynthesizer":
        data, metadata = make_demo_data(num_users=40, seed=1)
        model = IndependentSynthesizer(metadata)
        model.set_table_parameters(list(data)[-1], "TVAESynthesizer", {"epochs": 1, "enable_gpu": False, "batch_size": 20})
        model.fit(data)
        return model, lambda m: m.sample()[list(data)[0]]
    frame, metadata = _table(distributions=DISTRIBUTIONS if kind == "GaussianCopulaSynthesizer" else ["norm"])
    if kind == "GaussianCopulaSynthesizer":
        extra = {"numerical_distributions": {f"x{i}": d for i, d in enumerate(DISTRIBUTIONS)}}
    else:
        extra = {"epochs": 1, "enable_gpu": False, "batch_size": 40}
    model = getattr(single_table, kind)(metadata, **extra)
    model.fit(frame)
    return model, lambda m: m.sample(30)


KINDS = ["GaussianCopulaSynthesizer", "CTGANSynthesizer", "TVAESynthesizer", "CopulaGANSynthesizer",
         "PARSynthesizer", "IndependentSynthesizer"]


def _multi_table_with_par_child_and_self_reference():
    from synth_assets.multi_table import IndependentSynthesizer

    rng = np.random.default_rng(0)
    n = 30
    users = pd.DataFrame({"user_id": [f"U{i}" for i in range(n)], "age": rng.integers(18, 80, n),
                          "referrer_id": [None] * 5 + [f"U{int(rng.integers(0, i))}" for i in range(5, n)]})
    events = pd.DataFrame([{"user_id": f"U{i}", "t": s, "v": float(rng.normal()), "kind": ["a", "b"][s % 2]}
                           for i in range(n) for s in range(int(rng.integers(1, 5)))])
    key = {"sdtype": "id"}
    metadata = {
        "tables": {
            "users": {"primary_key": "user_id", "columns": {"user_id": key, "age": {"sdtype": "numerical"}, "referrer_id": key}},
            "events": {"sequence_key": "user_id", "sequence_index": "t", "columns": {
                "user_id": key, "t": {"sdtype": "numerical"}, "v": {"sdtype": "numerical"}, "kind": {"sdtype": "categorical"}}},
        },
        "relationships": [
            {"parent_table_name": "users", "parent_primary_key": "user_id", "child_table_name": "events", "child_foreign_key": "user_id"},
            {"parent_table_name": "users", "parent_primary_key": "user_id", "child_table_name": "users", "child_foreign_key": "referrer_id"},
        ],
    }
    model = IndependentSynthesizer(metadata)
    model.set_table_parameters("events", "PARSynthesizer", {"epochs": 2, "enable_gpu": False})
    model.fit({"users": users, "events": events})
    return model, lambda m: pd.concat(m.sample(), names=["table"])


@pytest.mark.parametrize("kind", [*KINDS, "multi-table with a PAR child and a self reference"])
def test_every_synthesizer_kind_round_trips(kind, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model, draw = _fit(kind) if kind in KINDS else _multi_table_with_par_child_and_self_reference()
    path = tmp_path / "model.pkl"
    model.save(path)
    for loaded in (load_synthesizer(path), type(model).load(path)):
        assert type(loaded) is type(model)
        loaded.set_random_state(5)
        model.set_random_state(5)
        pd.testing.assert_frame_equal(draw(loaded), draw(model))


def test_model_types_are_the_public_synthesizers():
    assert {name.rsplit(".", 1)[1] for name in MODEL_TYPES} == set(KINDS)


def test_every_allowed_global_exists_and_is_exact():
    for module, name in ALLOWED_GLOBALS:
        assert "*" not in module and "." not in name, (module, name)  # exact names, no getattr chains
        if module.startswith("numpy.core.") or module == "pytz":
            continue  # numpy 1 alias (a deprecated shim under numpy 2) / optional package
        assert hasattr(importlib.import_module(module), name), (module, name)
    dangerous = {"os", "posix", "subprocess", "builtins.eval", "builtins.exec", "builtins.getattr",
                 "builtins.__import__", "importlib", "numpy.load", "pandas.read_pickle", "functools", "operator",
                 "codecs", "_codecs", "shutil", "io", "pickle", "copyreg", "torch.load", "torch.storage"}
    for module, name in ALLOWED_GLOBALS:
        assert module not in dangerous and f"{module}.{name}" not in dangerous


# -- the gadget battery --------------------------------------------------------------------------------
def _s(text: str) -> bytes:
    return b"V" + text.encode("raw_unicode_escape") + b"\n"


def _b(data: bytes) -> bytes:
    return b"B" + struct.pack("<I", len(data)) + data


def _g(module: str, name: str) -> bytes:
    return b"c" + f"{module}\n{name}\n".encode()


def _call(function: bytes, *args: bytes) -> bytes:
    return function + b"(" + b"".join(args) + b"tR"


def _pickle(expression: bytes) -> bytes:
    return b"\x80\x04" + expression + b"."


class _Booby:
    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def _gadgets(sandbox, inputs):
    """(id, pickle, whether plain pickle.loads would create a file in `sandbox`)."""
    touch = f"touch {sandbox / 'system'}"
    os_module = _g("synth_assets.persistence", "os")  # a module object, reached through an attribute
    csv = inputs / "secrets.csv"
    csv.write_text("a\n1\n")
    plain = inputs / "plain.pkl"
    plain.write_bytes(pickle.dumps(_Booby(sandbox / "read_pickle")))
    npy = inputs / "evil.npy"
    np.save(npy, np.array([_Booby(sandbox / "numpy_load")], dtype=object), allow_pickle=True)
    import torch

    torch_blob = io.BytesIO()
    torch.save(_Booby(sandbox / "torch_storage"), torch_blob)
    gadgets = [
        ("os.system", _call(_g("os", "system"), _s(touch)), True),
        ("posix.system", _call(_g("posix", "system"), _s(touch)), True),
        ("subprocess.check_call", _call(_g("subprocess", "check_call"), b"(" + _s("touch") + _s(str(sandbox / "cc")) + b"l"), True),
        ("subprocess.Popen", _call(_g("subprocess", "Popen"), b"(" + _s("touch") + _s(str(sandbox / "popen")) + b"l"), True),
        ("builtins.eval", _call(_g("builtins", "eval"), _s(f"open({str(sandbox / 'eval')!r}, 'w')")), True),
        ("builtins.exec", _call(_g("builtins", "exec"), _s(f"open({str(sandbox / 'exec')!r}, 'w')")), True),
        ("builtins.open", _call(_g("builtins", "open"), _s(str(sandbox / "open")), _s("w")), True),
        ("io.open", pickle.dumps(_Booby(sandbox / "io_open")), True),
        ("builtins.getattr+__import__",
         _call(_call(_g("builtins", "getattr"), _call(_g("builtins", "__import__"), _s("os")), _s("system")), _s(touch)), True),
        ("importlib.import_module",
         _call(_call(_g("builtins", "getattr"), _call(_g("importlib", "import_module"), _s("os")), _s("system")), _s(touch)), True),
        ("dotted getattr chain", _call(_g("synth_assets.persistence", "os.system"), _s(touch)), True),
        ("dotted chain on an allowed class",
         _call(_g("pandas.core.frame", "DataFrame.to_csv"), _call(_g("pandas.core.frame", "DataFrame")), _s(str(sandbox / "csv"))), True),
        ("our own writer", _call(_g("synth_assets.persistence", "atomic_write_bytes"), _s(str(sandbox / "ours")), _b(b"x")), True),
        ("numpy.load", _call(_g("numpy", "load"), _s(str(npy)), b"N", b"\x88"), True),
        ("numpy.lib._npyio_impl.load", _call(_g("numpy.lib._npyio_impl", "load"), _s(str(npy)), b"N", b"\x88"), True),
        ("numpy.lib.npyio.DataSource", _call(_g("numpy.lib.npyio", "DataSource"), _s(str(sandbox))), False),
        ("numpy.save", _call(_g("numpy", "save"), _s(str(sandbox / "np")), _s("x")), True),
        ("pandas.read_pickle", _call(_g("pandas", "read_pickle"), _s(str(plain))), True),
        ("pandas.io.pickle.read_pickle", _call(_g("pandas.io.pickle", "read_pickle"), _s(str(plain))), True),
        ("pandas.read_csv", _call(_g("pandas", "read_csv"), _s(str(csv))), False),
        ("pickle.loads", _call(_g("pickle", "loads"), _b(plain.read_bytes())), True),
        ("torch.storage._load_from_bytes", _call(_g("torch.storage", "_load_from_bytes"), _b(torch_blob.getvalue())), True),
        ("functools.partial", _call(_call(_g("functools", "partial"), _g("os", "system"), _s(touch))), True),
        ("operator.attrgetter", _call(_call(_call(_g("operator", "attrgetter"), _s("system")), os_module), _s(touch)), True),
        ("operator.methodcaller", _call(_call(_g("operator", "methodcaller"), _s("system"), _s(touch)), os_module), True),
        ("pathlib touch", _call(_call(_g("operator", "methodcaller"), _s("touch")), _call(_g("pathlib", "Path"), _s(str(sandbox / "p")))), True),
        ("codecs.open", _call(_g("codecs", "open"), _s(str(sandbox / "codecs")), _s("w")), True),
        ("shutil.copyfile", _call(_g("shutil", "copyfile"), _s(str(csv)), _s(str(sandbox / "copied"))), True),
        ("copyreg._reconstructor", _call(_g("copyreg", "_reconstructor"), _g("builtins", "object"), _g("builtins", "object"), b"N"), False),
    ]
    return [(name, g if g.startswith(b"\x80") else _pickle(g), creates) for name, g, creates in gadgets]


@pytest.fixture
def battery(tmp_path):
    sandbox, inputs = tmp_path / "sandbox", tmp_path / "inputs"
    sandbox.mkdir()
    inputs.mkdir()
    return sandbox, _gadgets(sandbox, inputs)


def _fire(gadget: bytes):
    result = pickle.loads(gadget)
    if hasattr(result, "wait"):
        result.wait()  # a Popen


def test_the_gadgets_are_real(battery):
    # Control: plain pickle runs each gadget (so the refusals below are not vacuous).
    sandbox, gadgets = battery
    for name, gadget, creates in gadgets:
        if not creates:
            continue
        for path in sandbox.iterdir():
            path.unlink()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _fire(gadget)
        assert list(sandbox.iterdir()), f"{name} did not fire"


@pytest.mark.parametrize("signed", [False, True])
def test_gadgets_in_valid_envelopes_are_refused_before_running(battery, monkeypatch, signed):
    sandbox, gadgets = battery
    for name, gadget, _ in gadgets:
        if signed:  # even a file signed with the deployment's key cannot run code
            monkeypatch.setenv(SIGNING_KEY_ENV, "k")
            import hmac

            blob = _envelope(gadget, hmac_sha256=hmac.new(b"k", gadget, hashlib.sha256).hexdigest())
        else:
            blob = _envelope(gadget)
        with pytest.raises(ModelFileError, match="refusing to load|not plain tensor data") as info:
            persistence.loads(blob)
        assert "never contain" in str(info.value) or "tensor" in str(info.value), name
    assert list(sandbox.iterdir()) == []


def test_a_real_model_with_a_planted_gadget_is_refused(tmp_path):
    frame, metadata = _table()
    from synth_assets import GaussianCopulaSynthesizer

    model = GaussianCopulaSynthesizer(metadata)
    model.fit(frame)
    model._processor.planted = _Booby(tmp_path / "planted")
    path = tmp_path / "model.pkl"
    path.write_bytes(_envelope(pickle.dumps(model)))
    with pytest.raises(ModelFileError, match=r"`(io|builtins)\.open`"):
        load_synthesizer(path)
    assert not (tmp_path / "planted").exists()


def test_refusal_names_the_file_and_the_global(tmp_path):
    path = tmp_path / "m.pkl"
    path.write_bytes(_envelope(_call(_g("os", "system"), _s("true")) + b"."))
    with pytest.raises(ModelFileError, match=r"'.*m\.pkl' refers to `os\.system`"):
        load_synthesizer(path)


def test_safe_unpickler_refuses_persistent_ids():
    with pytest.raises(ModelFileError, match="persistent ids"):
        SafeUnpickler(io.BytesIO(b"\x80\x04" + _s("x") + b"Q.")).load()


# -- object_type is checked against the loading class before unpickling ------------------------------
def test_loading_class_is_checked_before_unpickling(tmp_path, monkeypatch):
    from synth_assets.multi_table import IndependentSynthesizer
    from synth_assets.sequential import PARSynthesizer
    from synth_assets.single_table import CTGANSynthesizer

    path = tmp_path / "copula.pkl"
    frame, metadata = _table()
    from synth_assets import GaussianCopulaSynthesizer

    model = GaussianCopulaSynthesizer(metadata)
    model.fit(frame)
    model.save(path)
    monkeypatch.setattr(persistence, "safe_loads", lambda *a, **k: pytest.fail("unpickled a file of the wrong class"))
    for cls in (PARSynthesizer, CTGANSynthesizer, IndependentSynthesizer):
        with pytest.raises(ModelFileError, match=f"holds a GaussianCopulaSynthesizer, not a {cls.__name__}"):
            cls.load(path)


@pytest.mark.parametrize("object_type", ["os.system", "builtins.dict", "x", "synth_assets.persistence.os"])
def test_unknown_object_types_are_refused_before_unpickling(object_type, tmp_path):
    marker = tmp_path / "FIRED"
    with pytest.raises(ModelFileError, match="not a synth_assets synthesizer"):
        persistence.loads(_envelope(pickle.dumps(_Booby(marker)), object_type=object_type))
    assert not marker.exists()


def test_header_that_lies_about_the_payload_is_refused():
    panel, metadata = _panel()
    from synth_assets.sequential import PARSynthesizer

    payload = pickle.dumps(PARSynthesizer(metadata, enable_gpu=False))
    with pytest.raises(ModelFileError, match="header says .*GaussianCopulaSynthesizer"):
        persistence.loads(_envelope(payload))


# -- corrupt headers ------------------------------------------------------------------------------------
@pytest.mark.parametrize("overrides", [
    {"format_version": None}, {"format_version": "1"}, {"format_version": True}, {"sha256": None},
    {"payload_size": "12"}, {"object_type": 3},
])
def test_corrupt_header_says_corrupt_file(overrides, tmp_path):
    marker = tmp_path / "FIRED"
    with pytest.raises(ModelFileError, match="corrupt file") as info:
        persistence.loads(_envelope(pickle.dumps(_Booby(marker)), **overrides))
    assert "format version" not in str(info.value)
    assert not marker.exists()


def test_header_cut_short_is_truncated():
    blob = _envelope(b"payload")
    with pytest.raises(ModelFileError, match="truncated"):
        persistence.loads(blob[: len(persistence.MAGIC) + 10])
