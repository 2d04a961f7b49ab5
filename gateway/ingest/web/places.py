"""Where a visitor is and what language it reads: countries from IP addresses, names of countries, regions and
languages, from well-kept libraries.

`iptocc` looks up the country of an IP address in the Regional Internet Registries' allocation data that its
wheel embeds (refreshed nightly by its authors, no file or network access at run time, about 100 ns a lookup).
`pycountry` holds ISO 3166-1 countries, ISO 3166-2 regions and ISO 639-3 languages with their English names.
"""

from __future__ import annotations

from functools import lru_cache

import iptocc
import pycountry


@lru_cache(maxsize=50_000)
def country_of_ip(ip: str) -> str:
    """The ISO 3166-1 alpha-2 country an IP address is allocated to; '' when unknown (or no address)."""
    if not ip or len(ip) > 64:
        return ""
    try:
        found = iptocc.country_code(ip)
    except (ValueError, TypeError):
        return ""
    return found if isinstance(found, str) and len(found) == 2 else ""


@lru_cache(maxsize=5_000)
def location_of(code: str) -> tuple[str, str]:
    """(country, region) of an ISO 3166 code a client sent: `NL` gives ('NL', ''), `nl-nb` ('NL', 'NL-NB');
    ('', '') when it is not a known country (an unknown region keeps its country)."""
    code = code.strip().upper()
    country, _, _ = code.partition("-")
    if len(country) != 2 or pycountry.countries.get(alpha_2=country) is None:
        return "", ""
    if "-" in code and pycountry.subdivisions.get(code=code) is not None:
        return country, code
    return country, ""


@lru_cache(maxsize=1_000)
def country_name(code: str) -> str:
    """The English name of an ISO 3166-1 alpha-2 country, '' when unknown."""
    found = pycountry.countries.get(alpha_2=code) if len(code) == 2 else None
    if found is None:
        return ""
    return str(getattr(found, "common_name", None) or found.name)


@lru_cache(maxsize=5_000)
def region_name(code: str) -> str:
    """The name of an ISO 3166-2 region, '' when unknown."""
    found = pycountry.subdivisions.get(code=code) if "-" in code else None
    return str(found.name) if found else ""


@lru_cache(maxsize=5_000)
def language_code(tag: str) -> str:
    """The ISO 639-3 code of a language tag (`fr`, `en-US`, `nld`, an Accept-Language header's first tag);
    '' when unknown."""
    first = tag.split(",", 1)[0].split(";", 1)[0].strip()
    primary = first.replace("_", "-").split("-", 1)[0].lower()
    if not primary.isalpha():
        return ""
    found = None
    if len(primary) == 2:
        found = pycountry.languages.get(alpha_2=primary)
    elif len(primary) == 3:
        found = pycountry.languages.get(alpha_3=primary)
    return str(found.alpha_3) if found else ""


@lru_cache(maxsize=1_000)
def language_name(code: str) -> str:
    """The English name of an ISO 639-3 language, '' when unknown."""
    found = pycountry.languages.get(alpha_3=code) if len(code) == 3 else None
    return str(found.name) if found else ""
