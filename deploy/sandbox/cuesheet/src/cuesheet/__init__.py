"""Formats brevet distances as cue sheets print them."""

__version__ = "1.2.0"


def distance(km):
    """'200 km' for 200, '1200 km' for 1200.0, '54.3 km' for 54.3."""
    value = float(km)
    text = ("%d" % value) if value == int(value) else ("%.1f" % value)
    return text + " km"
