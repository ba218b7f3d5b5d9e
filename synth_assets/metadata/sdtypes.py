"""Which sdtypes exist, and which of them are generated (PII / ids) rather than modelled."""

MODELLED_SDTYPES = frozenset({"numerical", "categorical", "boolean", "datetime"})

# PII sdtypes we detect from column names and generate with faker: sdtype -> faker method.
PII_FAKER_METHODS = {
    "email": "email",
    "phone_number": "phone_number",
    "name": "name",
    "first_name": "first_name",
    "last_name": "last_name",
    "address": "address",
    "street_address": "street_address",
    "city": "city",
    "state": "state",
    "country": "country",
    "postcode": "postcode",
    "zipcode": "postcode",
    "ssn": "ssn",
    "credit_card_number": "credit_card_number",
    "iban": "iban",
    "ipv4_address": "ipv4",
    "ipv6_address": "ipv6",
    "user_agent_string": "user_agent",
    "company": "company",
    "job": "job",
    "license_plate": "license_plate",
    "url": "url",
    "username": "user_name",
    # SDV's detection writes sdtype 'unknown' (pii: true) for columns it cannot type; SDV fills
    # them with random strings, so do we.
    "unknown": "pystr",
}

NUMERICAL_REPRESENTATIONS = frozenset(
    {"Float", "Int64", "Int32", "Int16", "Int8", "UInt64", "UInt32", "UInt16", "UInt8"}
)


def is_known_sdtype(sdtype: str) -> bool:
    if sdtype in MODELLED_SDTYPES or sdtype == "id" or sdtype in PII_FAKER_METHODS:
        return True
    # SDV accepts any faker method name as a PII sdtype.
    from faker import Faker

    return hasattr(Faker(), sdtype) and not sdtype.startswith("_")


def is_generated_column(column_spec: dict) -> bool:
    """Ids and PII are generated at sampling time and never learned from real values."""
    sdtype = column_spec.get("sdtype")
    if sdtype in MODELLED_SDTYPES:
        return False
    if sdtype == "id":
        return True
    # SDV: a PII sdtype marked `pii: False` is not sensitive and is modelled as categorical.
    return column_spec.get("pii", True)
