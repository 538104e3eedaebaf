"""Synthetic people and families, deterministic by seed.

Names are Italian, with the awkward cases the reader must survive: accents
(NICOLÒ, CANTÙ), apostrophes (D'ANGELO), particles (DE LUCA, LO PRESTI),
double surnames and several given names. Every codice fiscale is computed
from the person's data (verification.codice_fiscale.generate); addresses use
reserved example domains.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cache

from verification.codice_fiscale import generate as generate_cf

TODAY = date(2026, 11, 26)  # the corpus' fixed "today" (SPORTELLO_TODAY)

# Real Belfiore codes: (code, comune, province). Lombardy first, then a few others.
BIRTHPLACES: tuple[tuple[str, str, str], ...] = (
    ("F205", "MILANO", "MI"),
    ("A794", "BERGAMO", "BG"),
    ("B157", "BRESCIA", "BS"),
    ("C933", "COMO", "CO"),
    ("D150", "CREMONA", "CR"),
    ("E507", "LECCO", "LC"),
    ("E648", "LODI", "LO"),
    ("F704", "MONZA", "MB"),
    ("E897", "MANTOVA", "MN"),
    ("G388", "PAVIA", "PV"),
    ("I829", "SONDRIO", "SO"),
    ("L682", "VARESE", "VA"),
    ("H501", "ROMA", "RM"),
    ("F839", "NAPOLI", "NA"),
    ("L219", "TORINO", "TO"),
    ("G273", "PALERMO", "PA"),
    ("A944", "BOLOGNA", "BO"),
)
PROVINCES = ("BG", "BS", "CO", "CR", "LC", "LO", "MB", "MI", "MN", "PV", "SO", "VA")

SURNAMES = (
    "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco",
    "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa", "Giordano", "Rizzo", "Lombardi", "Moretti",
    "Barbieri", "Fontana", "Santoro", "Mariani", "Rinaldi", "Caruso", "Ferrara", "Galli", "Martini",
    "Leone", "Longo", "Gentile", "Martinelli", "Vitale", "Serra", "Coppola", "De Santis", "D'Angelo",
    "Dell'Orto", "Lo Presti", "Cantù", "Mazzà", "La Rosa", "Di Stefano", "Brambilla", "Sala", "Cattaneo",
    "Pozzi", "Fumagalli", "Villa",
)
MALE_NAMES = (
    "Mario", "Giuseppe", "Luca", "Marco", "Andrea", "Francesco", "Alessandro", "Nicolò", "Giovanni",
    "Paolo", "Stefano", "Davide", "Matteo", "Lorenzo", "Gianluca", "Pier Paolo", "Carlo Alberto",
    "Giacomo", "Riccardo", "Tommaso",
)
FEMALE_NAMES = (
    "Maria", "Anna", "Giulia", "Francesca", "Chiara", "Sara", "Laura", "Elena", "Paola", "Valentina",
    "Martina", "Alessia", "Federica", "Noemi", "Bianca", "Lucia", "Anna Maria", "Maria Grazia", "Zoe",
    "Maria Luisa",
)
STREETS = ("Via Roma", "Via Garibaldi", "Corso Venezia", "Via Manzoni", "Viale Monza", "Via Dante", "Piazza Duomo")
FACES = ("astronaut", "grace_hopper")  # tests/corpus/faces/*.jpg


@cache
def _cf(surname: str, given_names: str, sex: str, birth_date: date, birthplace_code: str) -> str:
    return generate_cf(surname, given_names, sex, birth_date, birthplace_code)


@dataclass(frozen=True)
class Person:
    surname: str
    given_names: str
    sex: str  # "M" | "F"
    birth_date: date
    birthplace_code: str
    birthplace: str  # comune, upper case
    birth_province: str
    phone: str  # E.164, +393…
    email: str
    height_cm: int
    address: str
    face: str  # key of tests/corpus/faces

    @property
    def codice_fiscale(self) -> str:
        return _cf(self.surname, self.given_names, self.sex, self.birth_date, self.birthplace_code)

    @property
    def full_name(self) -> str:
        return f"{self.given_names} {self.surname}"

    def age_on(self, day: date = TODAY) -> int:
        return day.year - self.birth_date.year - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))

    @property
    def is_minor(self) -> bool:
        return self.age_on(TODAY) < 18


def _ascii(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in text if c.isalnum() and not unicodedata.combining(c))


def _email(rng: random.Random, surname: str, given_names: str) -> str:
    first = _ascii(given_names.split()[0])
    last = _ascii(surname)
    style = rng.randrange(3)
    local = (f"{first}.{last}", f"{first[0]}{last}{rng.randrange(10, 99)}", f"{last}.{first}")[style]
    return f"{local}@{rng.choice(('example.org', 'example.com', 'example.net'))}"


def _phone(rng: random.Random) -> str:
    return f"+393{rng.choice('2345679')}{rng.randrange(0, 10)}{rng.randrange(0, 10**7):07d}"


def make_person(
    rng: random.Random,
    *,
    age: int | None = None,
    sex: str | None = None,
    surname: str | None = None,
    given_names: str | None = None,
) -> Person:
    """One person; `age` is in completed years on TODAY."""
    sex = sex or rng.choice("MF")
    surname = surname or rng.choice(SURNAMES)
    if rng.random() < 0.08 and " " not in surname and "'" not in surname:
        surname = f"{surname} {rng.choice([s for s in SURNAMES if ' ' not in s and s != surname])}"
    given_names = given_names or rng.choice(MALE_NAMES if sex == "M" else FEMALE_NAMES)
    age = age if age is not None else rng.randrange(19, 86)
    # Born between (age + 1) years and age years before TODAY, exclusive of the birthday itself.
    latest = date(TODAY.year - age, TODAY.month, min(TODAY.day, 28))
    birth_date = latest - timedelta(days=rng.randrange(1, 360))
    code, comune, province = rng.choice(BIRTHPLACES[:12] if rng.random() < 0.8 else BIRTHPLACES)
    return Person(
        surname=surname.upper(),
        given_names=given_names.upper(),
        sex=sex,
        birth_date=birth_date,
        birthplace_code=code,
        birthplace=comune,
        birth_province=province,
        phone=_phone(rng),
        email=_email(rng, surname, given_names),
        height_cm=(rng.randrange(165, 192) if sex == "M" else rng.randrange(152, 180)) if age >= 16 else 100 + 4 * age,
        address=f"{rng.choice(STREETS).upper()} {rng.randrange(1, 120)}",
        face=rng.choice(FACES),
    )


# Age difference of the declarant from the holder, by relationship (SPEC.md relationship values).
_AGE_GAP = {
    "spouse": (-6, 6),
    "child": (-40, -22),
    "parent": (22, 40),
    "sibling": (-8, 8),
    "grandparent": (45, 60),
    "grandchild": (-60, -45),
    "uncle_aunt": (18, 35),
    "nephew_niece": (-35, -18),
    "great_grandparent": (65, 75),
    "great_grandchild": (-75, -65),
    "cousin": (-10, 10),
    "guardian": (-15, 15),
    "other": (-20, 20),
}
# The holder's age on a delegate form, when the declarant is of an older generation.
_DELEGATE_HOLDER_AGE = {
    "parent": (20, 50), "grandparent": (18, 35), "great_grandparent": (18, 25), "uncle_aunt": (20, 45),
    "child": (50, 90), "grandchild": (70, 95), "great_grandchild": (88, 99), "nephew_niece": (50, 85),
}
_SAME_SURNAME = {"child", "parent", "sibling", "grandparent", "grandchild", "cousin"}


def relative(rng: random.Random, holder: Person, relationship: str, *, min_age: int = 25) -> Person:
    """The declarant standing in `relationship` to `holder` (an adult unless the holder is very old)."""
    low, high = _AGE_GAP[relationship]
    age = max(min_age, holder.age_on() + rng.randrange(low, high + 1))
    if relationship == "guardian" and holder.is_minor:
        age = rng.randrange(35, 65)
    surname = holder.surname if relationship in _SAME_SURNAME and rng.random() < 0.8 else None
    person = make_person(rng, age=age, surname=surname)
    if person.face == holder.face:  # two different photos on one request, when we can
        person = replace(person, face=next(f for f in FACES if f != holder.face))
    return person


@dataclass(frozen=True)
class Family:
    holder: Person
    declarant: Person | None
    relationship: str | None  # SPEC.md relationship value; None on the direct form


def family(seed: int, form_type: str, relationship: str | None = None, *, holder_age: int | None = None) -> Family:
    """A holder, and for delegate/guardian forms a declarant with a fitting relationship."""
    rng = random.Random(seed)
    if form_type == "direct":
        return Family(make_person(rng, age=holder_age), None, None)
    if form_type == "guardian":
        relationship = relationship or "parent"
        minor = relationship == "parent" or (relationship != "guardian" and rng.random() < 0.5)
        age = holder_age if holder_age is not None else (rng.randrange(1, 17) if minor else rng.randrange(25, 80))
        holder = make_person(rng, age=age)
        if relationship == "parent":
            declarant = relative(rng, holder, "parent", min_age=max(20, age + 20))
        else:
            declarant = relative(rng, holder, relationship)
        return Family(holder, declarant, relationship)
    relationship = relationship or rng.choice(("spouse", "child", "parent", "sibling", "grandchild", "nephew_niece"))
    low, high = _DELEGATE_HOLDER_AGE.get(relationship, (45, 90))
    holder = make_person(rng, age=holder_age if holder_age is not None else rng.randrange(low, high))
    return Family(holder, relative(rng, holder, relationship), relationship)
