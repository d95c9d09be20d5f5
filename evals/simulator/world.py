"""The simulated business world: sites, partners, identifiers, money and time."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

WINDOW_START = datetime(2026, 9, 1, tzinfo=UTC)
WINDOW_MINUTES = 88 * 24 * 60  # 2026-09-01 .. 2026-11-27 inclusive

# Each site carries the currency its business unit bills in and a nearby port or hub name.
SITES: tuple[tuple[str, str, str], ...] = (
    ("DC-ATL", "USD", "Atlanta"),
    ("DC-RNO", "USD", "Reno"),
    ("DC-DFW", "USD", "Dallas"),
    ("DC-CHI", "USD", "Joliet"),
    ("DC-NJ1", "USD", "Edison"),
    ("DC-ONT", "USD", "Ontario CA"),
    ("DC-MEM", "USD", "Memphis"),
    ("PL-MTY", "USD", "Laredo"),
    ("DC-TOR", "CAD", "Mississauga"),
    ("DC-VAN", "CAD", "Delta BC"),
    ("BU-EU1", "EUR", "Venlo"),
    ("DC-LEJ", "EUR", "Leipzig"),
    ("PL-ROT", "EUR", "Rotterdam"),
    ("DC-MAN", "GBP", "Manchester"),
    ("DC-MKN", "GBP", "Milton Keynes"),
)

CARRIERS: tuple[tuple[str, str], ...] = (
    ("UPS", "ups-freight.example"),
    ("FedEx Freight", "fedexfreight.example"),
    ("XPO", "xpo.example"),
    ("Old Dominion", "odfl.example"),
    ("Estes", "estes-express.example"),
    ("Saia", "saia.example"),
    ("R+L Carriers", "rlcarriers.example"),
    ("Schneider", "schneider.example"),
    ("J.B. Hunt", "jbhunt.example"),
    ("DHL", "dhl.example"),
    ("DB Schenker", "dbschenker.example"),
    ("Purolator", "purolator.example"),
    ("Kuehne+Nagel", "kuehne-nagel.example"),
    ("Day & Ross", "dayross.example"),
)

SUPPLIER_NAMES: tuple[str, ...] = (
    "Acme Fasteners",
    "Northwind Components",
    "Blue Ridge Packaging",
    "Keller Industrial",
    "Sunrise Plastics",
    "Midwest Bearings",
    "Hanse Elektro",
    "Polar Chemicals",
    "Cascadia Paper",
    "Orion Tools",
    "Tri-State Fittings",
    "Lumen Lighting Co",
    "Vega Textiles",
    "Atlas Hydraulics",
    "Meridian Foods",
    "Crown Adhesives",
)

CUSTOMER_NAMES: tuple[str, ...] = (
    "Harbor Hardware",
    "Pine Street Retail",
    "Metro Home Centers",
    "Coastal Marine Supply",
    "Valley Farm & Ranch",
    "Summit Outdoor",
    "BrightMart",
    "Eastside Builders",
    "Nordic Living",
    "Redwood Grocers",
    "Apex Auto Parts",
    "Greenfield Garden",
    "Lakeside Pharmacy",
    "Northern Tire",
    "Blue Harbor Foods",
    "Prairie Co-op",
    "Keystone Office",
    "Urban Pet Supply",
    "Maple Leaf Hardware",
    "Thames Kitchens",
    "Rhein Baumarkt",
    "Sol Beverage",
)

PEOPLE: tuple[str, ...] = (
    "Maria",
    "Dave",
    "Priya",
    "Tom",
    "Jen",
    "Luis",
    "Anke",
    "Sam",
    "Olu",
    "Kim",
    "Raj",
    "Beth",
    "Marco",
    "Yuki",
    "Chris",
    "Fatima",
    "Greg",
    "Nina",
    "Pete",
    "Ines",
)

HUBS: tuple[str, ...] = (
    "Columbus",
    "Indianapolis",
    "Kansas City",
    "Harrisburg",
    "Salt Lake City",
    "Nashville",
    "Louisville",
    "Denver",
    "Charlotte",
    "Duisburg",
    "Lyon",
    "Birmingham",
    "Winnipeg",
)

PORTS: tuple[str, ...] = (
    "Laredo",
    "Buffalo Peace Bridge",
    "Detroit Ambassador Bridge",
    "Port of Savannah",
    "Blaine",
    "Dover",
    "Rotterdam Maasvlakte",
    "Felixstowe",
    "Otay Mesa",
)


@dataclass(frozen=True)
class Partner:
    """A named outside party with an id and an e-mail domain."""

    id: str
    name: str
    domain: str


@dataclass(frozen=True)
class Setting:
    """The fixed identities and times one simulated case revolves around."""

    case_id: str
    site: str
    currency: str
    area: str
    detected_at: datetime
    order_id: str
    shipment_id: str
    po_id: str
    invoice_id: str
    customer: Partner
    supplier: Partner
    carrier: Partner
    skus: tuple[str, ...]
    location: str
    door: int
    hub: str
    port: str


def stamp(moment: datetime) -> str:
    """Formats a moment as an RFC 3339 UTC timestamp with a Z suffix."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def random_moment(rng: random.Random) -> datetime:
    """Picks a detection moment inside the simulated window, biased to working hours."""
    day = rng.randrange(WINDOW_MINUTES // 1440)
    hour = rng.choice((6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 22, 2))
    return WINDOW_START + timedelta(days=day, hours=hour, minutes=rng.randrange(60))


def bin_location(rng: random.Random) -> str:
    """Makes a warehouse bin address in one of several common notations."""
    aisle, bay, level = rng.choice("ABCDEFGHJK"), rng.randint(1, 48), rng.randint(1, 6)
    style = rng.randrange(4)
    if style == 0:
        return f"{aisle}-{bay:02d}-{level:02d}"
    if style == 1:
        return f"{aisle}{bay:02d}-{level}"
    if style == 2:
        return f"{rng.randint(1, 30):02d}-{bay:03d}-{aisle}{level}"
    return f"R{rng.randint(1, 12)}-{aisle}{bay:02d}-L{level}"


def _roster(prefix: str, names: tuple[str, ...], first: int, step: int) -> tuple[Partner, ...]:
    """Gives each partner name a stable id and mail domain."""
    return tuple(
        Partner(
            f"{prefix}-{first + step * index:04d}",
            name,
            name.lower().replace("&", "and").replace(" ", "")[:14] + ".example",
        )
        for index, name in enumerate(names)
    )


SUPPLIERS = _roster("SUP", SUPPLIER_NAMES, 110, 37)
CUSTOMERS = _roster("C", CUSTOMER_NAMES, 1001, 113)


class IdBook:
    """Draws document ids that are unique across one simulation run."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def draw(self, prefixes: tuple[str, ...], low: int, high: int) -> str:
        """Returns a fresh id with one of the prefixes and a number in range."""
        while True:
            candidate = self.rng.choice(prefixes) + str(self.rng.randint(low, high))
            if candidate not in self.used:
                self.used.add(candidate)
                return candidate


def make_setting(rng: random.Random, book: IdBook, case_id: str) -> Setting:
    """Draws every identity, place and time a simulated case may refer to."""
    site, currency, area = rng.choice(SITES)
    carrier_name, carrier_domain = rng.choice(CARRIERS)
    sku_count = rng.choice((1, 1, 1, 2, 2, 3))
    return Setting(
        case_id=case_id,
        site=site,
        currency=currency,
        area=area,
        detected_at=random_moment(rng),
        order_id=book.draw(("SO-", "SO-", "ORD-", "SO"), 10000, 999999),
        shipment_id=book.draw(("SH-", "SH-", "SHP-", "LD-"), 10000, 999999),
        po_id=book.draw(("PO-", "PO-", "4500"), 10000, 99999),
        invoice_id=book.draw(("INV-", "INV-", "SI-", "90"), 10000, 999999),
        customer=rng.choice(CUSTOMERS),
        supplier=rng.choice(SUPPLIERS),
        carrier=Partner(carrier_name, carrier_name, carrier_domain),
        skus=tuple(f"SKU-{rng.randint(1000, 99999)}" for _ in range(sku_count)),
        location=bin_location(rng),
        door=rng.randint(1, 48),
        hub=rng.choice(HUBS),
        port=rng.choice(PORTS),
    )


def make_amount(rng: random.Random, currency: str) -> dict[str, object] | None:
    """Draws the money at stake: often none, often small, sometimes above two-approval size."""
    band = rng.random()
    if band < 0.18:
        return None
    if band < 0.55:
        value = rng.uniform(40, 5000)
    elif band < 0.75:
        value = rng.uniform(5000, 10000)
    else:
        value = rng.uniform(10000, 185000)
    if rng.random() < 0.4:
        value = round(value, -1)
    return {"value": round(value, 2), "currency": currency}
