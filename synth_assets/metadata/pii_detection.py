"""Which text columns hold identifiers or PII, by column name and by content, as SDV 2.0 marks them.

SDV 2.0 detects PII sdtypes from the column name (`city`, `email`, `phone_number`, ...) and writes
unique free text as sdtype `unknown` with `pii: True`; such columns are generated at sampling time,
so no real value is sampled back or stored in a model file. We also read the values: a column of
e-mail addresses, URLs, IP addresses or phone numbers is PII whatever its name.
"""

from __future__ import annotations

import re

import pandas as pd

# Joined lower-case name (letters and digits only) contains one of these -> sdtype. Unambiguous words.
_NAME_SUBSTRINGS = (
    ("email", "email"),
    ("phonenumber", "phone_number"), ("telephone", "phone_number"), ("cellphone", "phone_number"),
    ("firstname", "first_name"), ("givenname", "first_name"),
    ("lastname", "last_name"), ("surname", "last_name"), ("familyname", "last_name"),
    ("fullname", "name"), ("customername", "name"), ("personname", "name"),
    ("username", "username"), ("screenname", "username"), ("nickname", "username"), ("userlogin", "username"),
    ("streetaddress", "street_address"), ("addressline", "street_address"), ("secondaryaddress", "secondary_address"),
    ("postalcode", "postcode"), ("zipcode", "postcode"), ("postcode", "postcode"),
    ("countrycode", "country_code"), ("stateabbr", "state_abbr"),
    ("ipv4", "ipv4_address"), ("ipv6", "ipv6_address"), ("ipaddress", "ipv4_address"), ("macaddress", "mac_address"),
    ("useragent", "user_agent_string"), ("creditcard", "credit_card_number"), ("iban", "iban"),
    ("licenseplate", "license_plate"), ("socialsecurity", "ssn"), ("latitude", "latitude"), ("longitude", "longitude"),
    ("website", "url"), ("homepage", "url"),
)
# Whole words of the name (snake_case / camelCase parts) -> sdtype: words that are also parts of others.
# Not "country": SDV models it as a category (only "country_code" is PII), and so do we.
_NAME_TOKENS = {
    "email": "email", "mail": "email", "phone": "phone_number", "tel": "phone_number", "mobile": "phone_number",
    "fax": "phone_number", "address": "address", "city": "city", "town": "city",
    "state": "administrative_unit", "province": "administrative_unit", "zip": "postcode",
    "ssn": "ssn", "vin": "vin", "ip": "ipv4_address", "url": "url", "login": "username", "swift": "swift11",
}
# A bare "name" column (or these forms) names a person; "product_name" does not.
_PERSON_NAMES = {"name", "full_name", "customer_name", "person_name", "guest_name", "patient_name", "user_name"}

_CONTENT = (
    (re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"), "email"),
    (re.compile(r"^(https?://|www\.)\S+$", re.IGNORECASE), "url"),
    (re.compile(r"^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$"), "ipv4_address"),
    # A leading '+' or a separator, 7-15 digits: phone numbers, not zero-padded codes.
    (re.compile(r"^(?=(?:\D*\d){7,15}\D*$)(\+[\d\s().-]+|\(?\d[\d\s().-]*[\s().-][\d\s().-]*\d)$"), "phone_number"),
)
_SAMPLE = 1000
MIN_ROWS_FOR_UNIQUE_TEXT = 6  # SDV predicts nothing from 5 rows or fewer


def _tokens(name: str) -> list[str]:
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(name))
    return [t for t in re.split(r"[^a-z0-9]+", snake.lower()) if t]


def pii_sdtype_from_name(name: str) -> str | None:
    tokens = _tokens(name)
    if "_".join(tokens) in _PERSON_NAMES:
        return "username" if tokens == ["user", "name"] else "name"
    joined = "".join(tokens)
    for part, sdtype in _NAME_SUBSTRINGS:
        if part in joined:
            return sdtype
    return next((_NAME_TOKENS[t] for t in tokens if _NAME_TOKENS.get(t)), None)


def pii_sdtype_from_content(non_null: pd.Series) -> str | None:
    """The PII sdtype every (sampled) value's text matches, else None."""
    if non_null.empty:
        return None
    sample = non_null.astype(str).str.strip().head(_SAMPLE)
    for pattern, sdtype in _CONTENT:
        if sample.str.match(pattern).all():
            return sdtype
    return None


def is_unique_text(non_null: pd.Series) -> bool:
    """Free text whose every value is different (user names, comments): nothing to learn, only to leak."""
    return len(non_null) >= MIN_ROWS_FOR_UNIQUE_TEXT and non_null.astype(str).is_unique
