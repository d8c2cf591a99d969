# ruff: noqa: E501  (data rows read better on one line)
"""Data tables for the Northwind Outfitters demo customers (used by build_demo.py).

All people, e-mails, phone numbers and street addresses are fictional (e-mails use example.com,
phones the 555-01xx range). Orders of C001-C004 (the narrative customers) are spelled out in
NARRATIVE_ORDERS; the orders of everybody else are generated from their preferences and ``shops``
(the categories they buy from).
"""

# Orders whose placed/delivered dates fall in these ranges get these statuses (today is 2026-11-29).
ORDER_DATE_START = "2026-06-01"
ORDER_DATE_END = "2026-11-28"
RETURN_WINDOW_START = "2026-10-30"  # delivered on or after this date -> still inside the 30-day window

PAYMENT_METHODS = ["visa ending 4242", "mastercard ending 5100", "paypal", "gift card"]
PAYMENT_WEIGHTS = [5, 3, 3, 1]

# Orders per customer (inclusive range) by tier, for generated customers.
ORDERS_PER_TIER = {"standard": (1, 2), "silver": (2, 3), "gold": (3, 4), "platinum": (4, 6)}
# Points balance range by tier (12-month spend in the tier's band x points rate, minus redemptions).
POINTS_RANGE = {"standard": (40, 290), "silver": (380, 980), "gold": (1250, 2900), "platinum": (4100, 7800)}

# Required number of generated (non-narrative) orders per status; the rest are "delivered" outside the
# 30-day return window. "delivered_recent" = delivered on or after RETURN_WINDOW_START.
GENERATED_STATUS_MINIMUM = {
    "pending": 6, "processed": 6, "shipped": 7, "cancelled": 6, "returned": 6, "delivered_recent": 8,
}

# Dislike -> (what it is matched against, keywords). Used to keep orders consistent with preferences.
DISLIKES = {
    "synthetic fabrics": ("material", ["polyester", "nylon", "elastane", "synthetic", "softshell"]),
    "scented products": ("scent", []),
    "heavy boots": ("heavy", []),
    "over-ear headphones": ("type", ["over-ear"]),
    "bright colours": ("colour", ["coral", "volt green", "orange", "red", "mustard"]),
}

# (id, first, last, tier, joined, (line1, city, state, postcode), marketing, preferences, shops)
CUSTOMERS = [
    ("C001", "Maya", "Chen", "gold", "2023-03-14", ("2217 Alder Creek Road", "Portland", "OR", "97214"), True,
     [("category", "running-shoes"), ("size", "8.5"), ("brand", "Stridewell"), ("budget", "under 150")],
     ["running-shoes", "tops"]),
    ("C002", "Daniel", "Okafor", "standard", "2025-06-30", ("48 Willow Bend Court", "Columbus", "OH", "43215"), False,
     [("category", "audio")], ["audio", "tops"]),
    ("C003", "Priya", "Natarajan", "silver", "2024-09-02", ("915 Cedar Hollow Lane", "Boulder", "CO", "80302"), True,
     [("category", "camping"), ("colour", "green")], []),
    ("C004", "Lucas", "Moreau", "platinum", "2021-11-20", ("3340 Summit View Drive", "Denver", "CO", "80205"), True,
     [("category", "hiking-boots"), ("size", "10"), ("brand", "Ridgeline"), ("occasion", "backpacking")],
     ["hiking-boots", "backpacks", "camping", "outerwear"]),
    ("C005", "Sofia", "Ramirez", "silver", "2024-02-11", ("72 Juniper Street", "Austin", "TX", "78704"), True,
     [("category", "skincare"), ("dislike", "scented products"), ("budget", "under 40")], ["skincare", "tops"]),
    ("C006", "James", "Whitaker", "standard", "2025-08-19", ("1509 Maple Ridge Avenue", "Raleigh", "NC", "27605"), False,
     [("category", "audio"), ("brand", "Halcyon Audio")], ["audio"]),
    ("C007", "Aisha", "Bello", "gold", "2022-05-07", ("630 Ponderosa Way", "Flagstaff", "AZ", "86001"), True,
     [("occasion", "trail running"), ("category", "running-shoes"), ("size", "7.5")],
     ["running-shoes", "bottoms", "audio"]),
    ("C008", "Ethan", "Park", "standard", "2025-10-03", ("27 Harbor Light Road", "Providence", "RI", "02906"), True,
     [("category", "kitchen"), ("occasion", "home coffee brewing")], ["kitchen"]),
    ("C009", "Hannah", "Schmidt", "silver", "2023-12-01", ("804 Birchwood Terrace", "Minneapolis", "MN", "55408"), False,
     [("category", "outerwear"), ("size", "M"), ("colour", "navy")], ["outerwear", "tops"]),
    ("C010", "Marcus", "Johnson", "platinum", "2021-07-15", ("5120 Trailhead Loop", "Bend", "OR", "97701"), True,
     [("category", "camping"), ("occasion", "backpacking"), ("brand", "Emberlight")],
     ["camping", "backpacks", "hiking-boots"]),
    ("C011", "Emily", "Novak", "standard", "2025-04-22", ("19 Sparrow Lane", "Madison", "WI", "53703"), False,
     [("category", "tops"), ("size", "S"), ("budget", "under 50")], ["tops", "bottoms"]),
    ("C012", "Diego", "Alvarez", "gold", "2022-09-09", ("2875 Mesa Verde Street", "Albuquerque", "NM", "87106"), True,
     [("category", "hiking-boots"), ("size", "11"), ("occasion", "day hiking")],
     ["hiking-boots", "outerwear", "backpacks"]),
    ("C013", "Grace", "Liu", "silver", "2024-06-18", ("441 Seabreeze Drive", "San Diego", "CA", "92109"), True,
     [("category", "skincare"), ("occasion", "sun protection")], ["skincare"]),
    ("C014", "Noah", "Fischer", "standard", "2025-03-27", ("88 Foxglove Road", "Omaha", "NE", "68104"), False,
     [("category", "running-shoes"), ("size", "10"), ("budget", "under 100")], ["running-shoes"]),
    ("C015", "Olivia", "Brennan", "gold", "2022-01-30", ("1300 Hawthorne Place", "Burlington", "VT", "05401"), True,
     [("brand", "Northwind Basics"), ("size", "M"), ("dislike", "synthetic fabrics")],
     ["tops", "bottoms", "outerwear"]),
    ("C016", "Samuel", "Adeyemi", "standard", "2025-09-12", ("610 Railyard Street", "Atlanta", "GA", "30312"), False,
     [("category", "backpacks"), ("occasion", "commuting")], ["backpacks", "audio"]),
    ("C017", "Chloe", "Martin", "silver", "2023-10-05", ("37 Orchard Hill Road", "Richmond", "VA", "23220"), False,
     [("category", "kitchen"), ("colour", "red")], ["kitchen"]),
    ("C018", "William", "Grant", "platinum", "2021-12-08", ("9 Aspen Glen Court", "Salt Lake City", "UT", "84105"), True,
     [("category", "outerwear"), ("occasion", "skiing"), ("size", "L")],
     ["outerwear", "tops", "bottoms", "audio"]),
    ("C019", "Zoe", "Kowalski", "standard", "2025-05-14", ("2204 Lakeshore Drive", "Grand Rapids", "MI", "49503"), True,
     [("category", "camping"), ("occasion", "family camping"), ("budget", "under 150")], ["camping"]),
    ("C020", "Benjamin", "Cho", "gold", "2022-11-11", ("765 Meridian Avenue", "Seattle", "WA", "98103"), False,
     [("category", "audio"), ("occasion", "travel"), ("brand", "Halcyon Audio")], ["audio", "backpacks"]),
    ("C021", "Isabella", "Rossi", "standard", "2026-11-20", ("150 Bayberry Lane", "Charleston", "SC", "29403"), True,
     [("category", "running-shoes"), ("occasion", "first 5K race")], []),
    ("C022", "Henry", "Thompson", "silver", "2024-03-03", ("412 Copper Kettle Road", "Knoxville", "TN", "37902"), False,
     [("category", "hiking-boots"), ("size", "9"), ("dislike", "heavy boots")], ["hiking-boots", "bottoms"]),
    ("C023", "Mia", "Andersson", "standard", "2025-07-01", ("56 Lilac Court", "Fargo", "ND", "58102"), True,
     [("category", "skincare"), ("budget", "under 25")], ["skincare"]),
    ("C024", "Jacob", "Wright", "gold", "2022-08-24", ("3021 Riverbend Road", "Louisville", "KY", "40206"), False,
     [("category", "kitchen"), ("occasion", "holiday gifts")], ["kitchen", "audio"]),
    ("C025", "Lily", "Nguyen", "standard", "2025-11-09", ("98 Magnolia Street", "Houston", "TX", "77006"), True,
     [("category", "tops"), ("colour", "black"), ("size", "XS")], ["tops", "bottoms"]),
    ("C026", "Oliver", "Bennett", "silver", "2023-05-19", ("707 Switchback Trail", "Missoula", "MT", "59801"), False,
     [("category", "backpacks"), ("brand", "Ridgeline"), ("occasion", "thru-hiking")], ["backpacks", "camping"]),
    ("C027", "Ava", "Patel", "gold", "2022-04-02", ("1840 Redwood Drive", "Sacramento", "CA", "95818"), True,
     [("category", "running-shoes"), ("brand", "Kestrel"), ("size", "8")],
     ["running-shoes", "tops", "skincare"]),
    ("C028", "Elijah", "Brooks", "standard", "2025-02-15", ("230 Prairie Wind Road", "Wichita", "KS", "67203"), False,
     [("category", "bottoms"), ("size", "L"), ("budget", "under 60")], ["bottoms", "tops"]),
    ("C029", "Charlotte", "Dubois", "gold", "2022-10-27", ("66 Heron Cove Road", "Portland", "ME", "04101"), False,
     [("category", "outerwear"), ("colour", "forest green")], ["outerwear", "backpacks"]),
    ("C030", "Levi", "Morgan", "standard", "2025-06-06", ("501 Gravel Pit Road", "Boise", "ID", "83702"), True,
     [("category", "camping"), ("budget", "under 50")], ["camping", "kitchen"]),
    ("C031", "Amelia", "Hughes", "silver", "2024-01-21", ("1175 Greenway Boulevard", "Chicago", "IL", "60614"), False,
     [("category", "audio"), ("occasion", "running"), ("dislike", "over-ear headphones")], ["audio", "running-shoes"]),
    ("C032", "Mateo", "Silva", "platinum", "2021-09-30", ("4420 Glacier Point Road", "Anchorage", "AK", "99503"), True,
     [("category", "camping"), ("brand", "Emberlight"), ("occasion", "winter camping")],
     ["camping", "outerwear", "hiking-boots"]),
    ("C033", "Harper", "Evans", "standard", "2025-01-13", ("83 Quarry Lane", "Pittsburgh", "PA", "15217"), False,
     [("category", "kitchen")], ["kitchen", "skincare"]),
    ("C034", "Lucy", "Sullivan", "silver", "2023-08-08", ("390 Tidewater Street", "Savannah", "GA", "31401"), True,
     [("category", "tops"), ("material", "merino wool"), ("occasion", "travel")], ["tops", "bottoms"]),
    ("C035", "Caleb", "Foster", "standard", "2026-11-24", ("12 Elm Hollow Road", "Des Moines", "IA", "50312"), False,
     [("category", "backpacks"), ("budget", "under 100")], []),
    ("C036", "Nora", "Jensen", "silver", "2024-04-26", ("2650 Snowberry Lane", "Spokane", "WA", "99203"), True,
     [("category", "hiking-boots"), ("size", "7"), ("occasion", "weekend hikes")], ["hiking-boots", "skincare"]),
]

# Occasion / material preferences narrow what a customer buys in a category: any of these tags.
FOCUS = {
    "C007": {"running-shoes": ["trail"]},
    "C008": {"kitchen": ["coffee", "stainless"]},
    "C013": {"skincare": ["spf"]},
    "C016": {"backpacks": ["everyday", "travel", "waterproof", "packable"]},
    "C018": {"outerwear": ["insulated", "waterproof"]},
    "C019": {"camping": ["family", "budget"]},
    "C020": {"audio": ["noise-cancelling", "wireless"]},
    "C026": {"backpacks": ["ultralight", "lightweight"], "camping": ["ultralight", "lightweight"]},
    "C031": {"audio": ["trail", "waterproof"], "running-shoes": ["road"]},
    "C032": {"camping": ["insulated", "down", "rechargeable"], "outerwear": ["insulated", "down"]},
    "C034": {"tops": ["merino", "travel", "breathable"]},
    "C036": {"hiking-boots": ["waterproof"]},
}

NO_ORDERS = {"C003", "C021", "C035"}
NO_PERSONALIZATION = {"C002", "C017", "C029", "C033"}

# Narrative orders. items: (product id, options the variant must match, quantity). Dates are UTC.
# "refund_at" is the refund time of cancelled/returned orders; "shipped_at" the hand-over to the carrier.
NARRATIVE_ORDERS = {
    "C001": [
        {"status": "delivered", "placed_at": "2026-11-06T14:22:00Z", "shipped_at": "2026-11-07T10:15:00Z",
         "delivered_at": "2026-11-10T16:05:00Z", "items": [("NW-RUN-001", {"size": "8.5"}, 1)],
         "method": "visa ending 4242", "carrier": "UPS"},
        {"status": "shipped", "placed_at": "2026-11-22T19:40:00Z", "shipped_at": "2026-11-24T09:30:00Z",
         "items": [("NW-TOP-002", {"size": "S"}, 1), ("NW-TOP-005", {"size": "S"}, 1)],
         "method": "visa ending 4242", "carrier": "UPS"},
        {"status": "pending", "placed_at": "2026-11-28T08:12:00Z",
         "items": [("NW-RUN-002", {"size": "8.5"}, 1)], "method": "paypal"},
    ],
    "C002": [
        {"status": "delivered", "placed_at": "2026-07-10T12:03:00Z", "shipped_at": "2026-07-11T15:20:00Z",
         "delivered_at": "2026-07-15T13:47:00Z", "items": [("NW-TOP-007", {"size": "L"}, 2)],
         "method": "mastercard ending 5100", "carrier": "USPS"},
        {"status": "processed", "placed_at": "2026-11-26T10:31:00Z", "processed_at": "2026-11-26T16:05:00Z",
         "items": [("NW-AUD-003", {}, 1)], "method": "mastercard ending 5100"},
    ],
    "C004": [
        {"status": "delivered", "placed_at": "2026-08-27T09:18:00Z", "shipped_at": "2026-08-28T11:00:00Z",
         "delivered_at": "2026-09-01T15:32:00Z", "items": [("NW-HIK-001", {"size": "10"}, 1)],
         "method": "visa ending 4242", "carrier": "UPS"},
        {"status": "cancelled", "placed_at": "2026-10-05T20:44:00Z", "refund_at": "2026-10-06T08:10:00Z",
         "items": [("NW-CMP-001", {}, 1)], "method": "visa ending 4242"},
        {"status": "returned", "placed_at": "2026-10-12T17:25:00Z", "shipped_at": "2026-10-13T10:40:00Z",
         "delivered_at": "2026-10-16T14:12:00Z", "refund_at": "2026-10-28T11:30:00Z",
         "items": [("NW-HIK-008", {"size": "10"}, 1)], "method": "visa ending 4242", "carrier": "UPS"},
        {"status": "delivered", "placed_at": "2026-11-10T07:55:00Z", "shipped_at": "2026-11-11T09:05:00Z",
         "delivered_at": "2026-11-14T12:20:00Z", "items": [("NW-BPK-003", {"volume": "65 L"}, 1)],
         "method": "visa ending 4242", "carrier": "UPS"},
    ],
}
