"""Which text columns hold identifiers or PII, by column name and by content, as SDV 2.0 marks them.

SDV 2.0 detects PII sdtypes from the column name (`city`, `email`, `phone_number`, ...) and writes
unique free text as sdtype `unknown` with `pii: True`; such columns are generated at sampling time,
so no real value is sampled back or stored in a model file. We also read the values: a column of
e-mail addresses, URLs, IP addresses or phone numbers is PII whatever its name.
"""

from __future__ import annotations

import re

import pandas as pd

# Runs of whole name words (snake_case / camelCase parts, joined) -> sdtype: "first_name", "firstName"
# and "firstname" all join to "firstname"; "hotel" never matches "tel", nor "statement" "state".
_NAME_PHRASES = dict((
    ("email", "email"), ("emailaddress", "email"), ("mail", "email"),
    ("phone", "phone_number"), ("phonenumber", "phone_number"), ("telephone", "phone_number"),
    ("cellphone", "phone_number"), ("tel", "phone_number"), ("mobile", "phone_number"), ("fax", "phone_number"),
    ("firstname", "first_name"), ("givenname", "first_name"), ("namefirst", "first_name"),
    ("namegiven", "first_name"), ("forename", "first_name"),
    ("lastname", "last_name"), ("surname", "last_name"), ("familyname", "last_name"),
    ("namelast", "last_name"), ("namefamily", "last_name"),
    ("fullname", "name"), ("customername", "name"), ("personname", "name"),
    ("username", "username"), ("screenname", "username"), ("nickname", "username"), ("userlogin", "username"),
    ("login", "username"),
    ("streetaddress", "street_address"), ("addressline", "street_address"), ("secondaryaddress", "secondary_address"),
    ("address", "address"), ("city", "city"), ("town", "city"),
    ("state", "administrative_unit"), ("province", "administrative_unit"),
    ("postalcode", "postcode"), ("zipcode", "postcode"), ("postcode", "postcode"), ("zip", "postcode"),
    ("countrycode", "country_code"), ("stateabbr", "state_abbr"),
    ("ip", "ipv4_address"), ("ipv4", "ipv4_address"), ("ipv6", "ipv6_address"), ("ipaddress", "ipv4_address"),
    ("macaddress", "mac_address"), ("useragent", "user_agent_string"), ("creditcard", "credit_card_number"),
    ("creditcardnumber", "credit_card_number"), ("iban", "iban"), ("licenseplate", "license_plate"),
    ("socialsecurity", "ssn"), ("socialsecuritynumber", "ssn"), ("ssn", "ssn"), ("vin", "vin"),
    ("swift", "swift11"), ("latitude", "latitude"), ("longitude", "longitude"),
    ("website", "url"), ("homepage", "url"), ("url", "url"),
))
_LONGEST_PHRASE = 4  # words
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


def pii_name_match(name: str) -> tuple[str, bool] | None:
    """(PII sdtype, whether it is the name's head word) for the run of name words that names PII,
    else None. The head is the last word: "home_town" is a town, "mobile_os" is not a phone number,
    "url_category" not a URL. A head match is preferred, then the longest run."""
    tokens = _tokens(name)
    if "_".join(tokens) in _PERSON_NAMES:
        return ("username" if tokens == ["user", "name"] else "name"), True
    for size in range(min(_LONGEST_PHRASE, len(tokens)), 0, -1):  # runs ending the name
        sdtype = _NAME_PHRASES.get("".join(tokens[len(tokens) - size:]))
        if sdtype is not None:
            return sdtype, True
    for size in range(min(_LONGEST_PHRASE, len(tokens)), 0, -1):
        for start in range(len(tokens) - size + 1):
            sdtype = _NAME_PHRASES.get("".join(tokens[start:start + size]))
            if sdtype is not None:
                return sdtype, False
    return None


def pii_sdtype_from_name(name: str) -> str | None:
    match = pii_name_match(name)
    return None if match is None else match[0]


def pii_sdtype_from_content(non_null: pd.Series) -> str | None:
    """The PII sdtype every (sampled) value's text matches, else None."""
    if non_null.empty:
        return None
    sample = non_null.astype(str).str.strip().head(_SAMPLE)
    for pattern, sdtype in _CONTENT:
        if sample.str.match(pattern).all():
            return sdtype
    return "name" if _are_person_names(sample) else None


_PERSON_NAME = re.compile(r"^[A-Z][a-z]+( [A-Z][a-z]+){1,2}$")  # "Mary Khan", "Shane Aaron Smith"
_FIRST_NAME_SHARE = 0.8


def _are_person_names(sample: pd.Series) -> bool:
    """Two or three capitalised words, most starting with a first name faker knows: full names,
    which a category would copy into samples and model files."""
    if not sample.str.match(_PERSON_NAME).all():
        return False
    from faker.providers.person.en_US import Provider  # faker's name lists; imported only here

    first_words = sample.drop_duplicates().str.split(" ").str[0]
    return bool(first_words.isin(Provider.first_names).mean() >= _FIRST_NAME_SHARE)


def is_unique_text(non_null: pd.Series) -> bool:
    """Free text whose every value is different (user names, comments): nothing to learn, only to leak."""
    return len(non_null) >= MIN_ROWS_FOR_UNIQUE_TEXT and non_null.astype(str).is_unique


def _repeats_a_lot(non_null: pd.Series) -> bool:
    # Each value seen ten times on average: a category (mobile_os: iOS/Android), not identifying text.
    return len(non_null) > 0 and non_null.nunique() * 10 <= len(non_null)


def pii_sdtype_by_name(name: str, non_null: pd.Series) -> tuple[str | None, str | None]:
    """(PII sdtype the column name suggests, or None; a warning, or None). A PII word that only
    qualifies the name ("mobile" in "mobile_os") does not override values that repeat like a category
    and do not look like PII: the column stays a plain column, with a warning naming it."""
    match = pii_name_match(name)
    if match is None:
        return None, None
    sdtype, is_head = match
    if is_head or not _repeats_a_lot(non_null):
        return sdtype, None
    from_content = pii_sdtype_from_content(non_null)
    if from_content is not None:
        return from_content, None
    return None, (
        f"column '{name}': its name suggests PII sdtype '{sdtype}', but its {non_null.nunique()} distinct "
        f"values repeat like categories, so it is detected as a plain column. If it holds PII, "
        f"update_column('{name}', sdtype='{sdtype}', pii=True)."
    )


def categorical_pii_warning(name: str, values: pd.Series) -> str | None:
    """Why a categorical column would copy real PII into samples and model files (unique per row,
    values that look like PII, or a name that is a PII word), else None."""
    non_null = values.dropna()
    match = pii_name_match(name)
    suggestion = match[0] if match else "unknown"
    if is_unique_text(non_null):
        reason = f"categorical with {non_null.nunique()} distinct values out of {len(non_null)} rows"
    elif (content := pii_sdtype_from_content(non_null)) is not None:
        reason, suggestion = f"categorical, but its values look like '{content}'", content
    elif match is not None and match[1]:
        reason = f"categorical, but named like PII sdtype '{match[0]}'"
    else:
        return None
    return (
        f"{reason}; real values will be copied into samples and model files; "
        f"consider sdtype '{suggestion}' with pii=True."
    )
