"""English names of ISO 3166-1 alpha-2 country codes, for `/o/analytics/countries` (unknown codes print as is)."""

from __future__ import annotations

_NAMES = """
AE United Arab Emirates|AF Afghanistan|AL Albania|AM Armenia|AO Angola|AR Argentina|AT Austria|AU Australia|
AZ Azerbaijan|BA Bosnia and Herzegovina|BD Bangladesh|BE Belgium|BG Bulgaria|BH Bahrain|BO Bolivia|BR Brazil|
BY Belarus|CA Canada|CH Switzerland|CL Chile|CN China|CO Colombia|CR Costa Rica|CU Cuba|CY Cyprus|
CZ Czech Republic|DE Germany|DK Denmark|DO Dominican Republic|DZ Algeria|EC Ecuador|EE Estonia|EG Egypt|
ES Spain|ET Ethiopia|FI Finland|FR France|GB United Kingdom|GE Georgia|GH Ghana|GR Greece|GT Guatemala|
HK Hong Kong|HR Croatia|HU Hungary|ID Indonesia|IE Ireland|IL Israel|IN India|IQ Iraq|IR Iran|IS Iceland|
IT Italy|JM Jamaica|JO Jordan|JP Japan|KE Kenya|KR South Korea|KW Kuwait|KZ Kazakhstan|LB Lebanon|
LK Sri Lanka|LT Lithuania|LU Luxembourg|LV Latvia|MA Morocco|MD Moldova|ME Montenegro|MK North Macedonia|
MT Malta|MX Mexico|MY Malaysia|NG Nigeria|NL Netherlands|NO Norway|NP Nepal|NZ New Zealand|OM Oman|PA Panama|
PE Peru|PH Philippines|PK Pakistan|PL Poland|PR Puerto Rico|PT Portugal|PY Paraguay|QA Qatar|RO Romania|
RS Serbia|RU Russia|SA Saudi Arabia|SE Sweden|SG Singapore|SI Slovenia|SK Slovakia|SN Senegal|SY Syria|
TH Thailand|TN Tunisia|TR Turkey|TW Taiwan|TZ Tanzania|UA Ukraine|UG Uganda|US United States|UY Uruguay|
UZ Uzbekistan|VE Venezuela|VN Vietnam|YE Yemen|ZA South Africa|ZW Zimbabwe
"""
NAMES: dict[str, str] = dict(
    entry.strip().split(" ", 1) for entry in _NAMES.replace("\n", "").split("|") if entry.strip()
)


def country_name(code: str) -> str:
    """The country's English name, `Unknown` for `Unknown`, else the code itself."""
    return NAMES.get(code.upper(), code)
