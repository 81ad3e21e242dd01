"""ISO 3166 codes for zone map keys and for what geo databases store.

MaxMind stores a subdivision as `iso_code` "CA" under country "US", which is simply
"US-CA". DB-IP Lite stores only an English name ("California", "Hesse", "Seoul"), so
names are matched against pycountry's ISO 3166-2 table, tried in this order:

1. the ISO name, its English translation, or a known English alias, compared without
   case, diacritics, punctuation or generic words ("Province", "-do", "oblast'");
2. a unique prefix with a short ending: "Stockholm" starts "Stockholms lan" and nothing else;
3. a unique close spelling that starts the same way ("Hesse" ~ "Hessen").

Whatever matches two subdivisions equally is unknown (None): never a guess between two.
"""

from __future__ import annotations

import difflib
import gettext
import re
import unicodedata
from functools import cache, lru_cache
from types import MappingProxyType

import pycountry

from gslb.geo.subdivision_aliases import ALIASES

CONTINENT_BY_CODE = MappingProxyType(
    {
        "AF": "africa",
        "AN": "antarctica",
        "AS": "asia",
        "EU": "europe",
        "NA": "north-america",
        "OC": "oceania",
        "SA": "south-america",
    }
)
"""MaxMind continent codes to the names zone files use (spelled out: `NA` is Namibia)."""

CONTINENTS = frozenset(CONTINENT_BY_CODE.values())

# Codes that geo databases use but ISO 3166-1 leaves user-assigned.
_EXTRA_COUNTRIES = MappingProxyType({"XK": "Kosovo"})

# Words that name the kind of subdivision rather than the subdivision itself.
_GENERIC_WORDS = frozenset(
    {
        *("province", "provincia", "provinz", "prefecture", "state", "region", "county", "department"),
        *("oblast", "kray", "krai", "okrug", "kraj", "lan", "voivodeship", "respublika", "republic"),
        *("governorate", "baladiyat", "muhafazat", "municipality", "autonomous", "city"),
        *("shi", "sheng", "zizhiqu", "do", "teukbyeolsi", "gwangyeoksi", "teukbyeoljachido"),
        *("teukbyeoljachisi", "of", "the"),
    }
)
# Letters that Unicode decomposition leaves alone.
_LETTERS = str.maketrans({"đ": "d", "ð": "d", "ł": "l", "ø": "o", "\u0131": "i", "ß": "ss", "æ": "ae", "œ": "oe"})
_SHORT_WORDS = {"st": "saint", "ste": "sainte"}
_CODE_PART = re.compile(r"[A-Z0-9]{1,3}")
_MIN_PREFIX = 4
_MAX_ENDING = 5
_FUZZY_CUTOFF = 0.85
_FUZZY_SAME_START = 3


def continent_name(code: str) -> str | None:
    """`NA` -> "north-america"; None for a code that is not a continent."""
    return CONTINENT_BY_CODE.get(code.upper())


def is_country_code(code: str) -> bool:
    """True for an upper-case ISO 3166-1 alpha-2 code such as "KR" (or XK, Kosovo)."""
    return country_name(code) is not None


def is_subdivision_code(code: str) -> bool:
    """True for an upper-case ISO 3166-2 code such as "US-CA" or "KR-11"."""
    return subdivision_name(code) is not None


def country_name(code: str) -> str | None:
    """The common English name of an upper-case alpha-2 code, for reports and records."""
    if len(code) != 2 or not code.isupper():
        return None
    if code in _EXTRA_COUNTRIES:
        return _EXTRA_COUNTRIES[code]
    country = pycountry.countries.get(alpha_2=code)
    return getattr(country, "common_name", None) or getattr(country, "name", None)


def subdivision_name(code: str) -> str | None:
    """The ISO name of an upper-case ISO 3166-2 code, English where pycountry has it."""
    if not code.isupper() or "-" not in code:
        return None
    subdivision = pycountry.subdivisions.get(code=code)
    return _english(subdivision.name) if subdivision is not None else None


def subdivision_code(country: str, iso_code: str | None = None, name: str | None = None) -> str | None:
    """The ISO 3166-2 code of a database's subdivision, from its code or else its name."""
    if iso_code:
        part = iso_code.upper()
        return f"{country}-{part}" if _CODE_PART.fullmatch(part) else None
    if name:
        return _code_by_name(country, name)
    return None


@lru_cache(maxsize=8192)
def _code_by_name(country: str, name: str) -> str | None:
    """Cached: a database repeats a few thousand names across millions of networks."""
    index = _name_index(country)
    key = _normalise(name)
    for candidate in (key, _strip_generic(key)):
        if candidate in index:
            return index[candidate]
    if len(key) >= _MIN_PREFIX:
        by_prefix = {code for spelling, code in index.items() if _extends(spelling, key)}
        if by_prefix:
            return by_prefix.pop() if len(by_prefix) == 1 else None
    close = difflib.get_close_matches(key, index.keys(), n=3, cutoff=_FUZZY_CUTOFF)
    codes = {index[match] for match in close if match[:_FUZZY_SAME_START] == key[:_FUZZY_SAME_START]}
    return codes.pop() if len(codes) == 1 else None


def _extends(spelling: str, key: str) -> bool:
    """True when `spelling` is `key` plus at most a short ending: "hessen" extends "hesse",
    "lvivska oblast" extends "lviv", but "sakhalinskaya" does not extend "sakha"."""
    if not spelling.startswith(key):
        return False
    ending = spelling[len(key) :].split(" ", 1)[0]
    return len(ending) <= _MAX_ENDING


@cache
def _name_index(country: str) -> dict[str, str]:
    """Normalised spellings -> code for one country, built on first use.

    A spelling that two subdivisions share is dropped, unless one of them owns it at a
    better rank: a top-level subdivision beats a nested one (databases report the top
    level: "Madrid" is the community, not the province), then an exact name or alias
    beats a derived spelling.
    """
    ranked: dict[str, tuple[int, set[str]]] = {}
    for code, names, nested in _subdivisions_of(country):
        for rank, spelling in _spellings(names):
            score = nested * 2 + rank
            best, codes = ranked.get(spelling, (score, set()))
            if score < best:
                ranked[spelling] = (score, {code})
            elif score == best:
                ranked[spelling] = (score, codes | {code})
    return {spelling: codes.pop() for spelling, (_, codes) in ranked.items() if len(codes) == 1}


def _subdivisions_of(country: str) -> list[tuple[str, list[str], int]]:
    """(code, names, 1 if nested else 0) for each subdivision of a country."""
    found = []
    for subdivision in pycountry.subdivisions.get(country_code=country) or ():
        names = [subdivision.name, _english(subdivision.name), *_aliases().get(subdivision.code, ())]
        found.append((subdivision.code, names, 1 if subdivision.parent_code else 0))
    return found


def _spellings(names: list[str]) -> set[tuple[int, str]]:
    """Ranked spellings of a subdivision's names: 0 = as written, 1 = derived."""
    exact = {_normalise(name) for name in names}
    derived: set[str] = set()
    for name in names:
        plain = re.sub(r"\[.*?\]|\(.*?\)", " ", name)  # "Monmouthshire [Sir Fynwy GB-FYN]"
        head, _, tail = plain.partition(",")  # "Madrid, Comunidad de"
        for text in (plain, head, f"{tail} {head}"):
            key = _normalise(text)
            derived.update({key, _strip_generic(key)})
    derived -= exact | {""}
    return {(0, key) for key in exact} | {(1, key) for key in derived}


def _normalise(text: str) -> str:
    """Lower case ASCII words: "Île-de-France" -> "ile de france", "St. Paul's" -> "saint pauls"."""
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_LETTERS))
    letters = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    letters = re.sub(r"['\u2019\u02bc\u2018\u02bb]", "", letters)
    words = re.sub(r"[^0-9a-z]+", " ", letters).split()
    return " ".join(_SHORT_WORDS.get(word, word) for word in words)


def _strip_generic(key: str) -> str:
    """Drop words that name the kind of subdivision: "gyeonggi do" -> "gyeonggi"."""
    words = [word for word in key.split() if word not in _GENERIC_WORDS]
    return " ".join(words) or key


@cache
def _aliases() -> dict[str, tuple[str, ...]]:
    table: dict[str, tuple[str, ...]] = {}
    for line in ALIASES.strip().splitlines():
        code, name = line.split(" ", 1)
        table[code] = (*table.get(code, ()), name)
    return table


@cache
def _translations() -> gettext.NullTranslations:
    """pycountry's English catalogue for ISO 3166-2 ("Bayern" -> "Bavaria")."""
    try:
        return gettext.translation("iso3166-2", pycountry.LOCALES_DIR, languages=["en"])
    except OSError:
        return gettext.NullTranslations()


def _english(iso_name: str) -> str:
    return _translations().gettext(iso_name)
