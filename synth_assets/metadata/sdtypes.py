"""Which sdtypes exist, and which of them are generated (PII / ids) rather than modelled.

The list is explicit: SDV's own sdtypes plus the PII sdtypes SDV 2.0 and rdt name (detection's
references and rdt's anonymizers) and a few common faker-backed ones. SDV also accepts any name
`Faker()` has an attribute for, which lets `seed_instance`, `random` or `date` through as "PII";
we refuse names that are not on the list.
"""

MODELLED_SDTYPES = frozenset({"numerical", "categorical", "boolean", "datetime", "ordinal"})

# PII sdtypes generated with faker: sdtype -> faker method (en_US has each; a test checks).
PII_FAKER_METHODS = {
    # rdt's SDTYPE_ANONYMIZERS
    "address": "address",
    "email": "email",
    "ipv4_address": "ipv4",
    "ipv6_address": "ipv6",
    "mac_address": "mac_address",
    "name": "name",
    "phone_number": "phone_number",
    "ssn": "ssn",
    "user_agent_string": "user_agent",
    # SDV 2.0 detection's references (_REFERENCE_TO_SDTYPE)
    "first_name": "first_name",
    "last_name": "last_name",
    "country_code": "country_code",
    "administrative_unit": "administrative_unit",
    "state_abbr": "state_abbr",
    "city": "city",
    "postcode": "postcode",
    "street_address": "street_address",
    "secondary_address": "secondary_address",
    "latitude": "latitude",
    "longitude": "longitude",
    "iban": "iban",
    "swift11": "swift11",
    "swift8": "swift8",
    "credit_card_number": "credit_card_number",
    "vin": "vin",
    "license_plate": "license_plate",
    # Other faker-backed PII sdtypes SDV's docs use
    "state": "state",
    "country": "country",
    "zipcode": "postcode",
    "bban": "bban",
    "company": "company",
    "job": "job",
    "url": "url",
    "domain_name": "domain_name",
    "username": "user_name",
    "user_name": "user_name",
    "date_of_birth": "date_of_birth",
    "passport_number": "passport_number",
    # SDV's detection writes sdtype 'unknown' (pii: true) for columns it cannot type; SDV fills
    # them with random strings, so do we.
    "unknown": "pystr",
}

SDTYPES = frozenset(MODELLED_SDTYPES | {"id"} | set(PII_FAKER_METHODS))

NUMERICAL_REPRESENTATIONS = frozenset(
    {"Float", "Int64", "Int32", "Int16", "Int8", "UInt64", "UInt32", "UInt16", "UInt8"}
)


def is_known_sdtype(sdtype) -> bool:
    return isinstance(sdtype, str) and sdtype in SDTYPES


def is_generated_column(column_spec: dict) -> bool:
    """Ids and PII are generated at sampling time and never learned from real values."""
    sdtype = column_spec.get("sdtype")
    if sdtype in MODELLED_SDTYPES:
        return False
    if sdtype == "id":
        return True
    # SDV: a PII sdtype marked `pii: False` is not sensitive and is modelled as categorical.
    return column_spec.get("pii", True)
