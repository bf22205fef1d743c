"""The Monitor: the trusted side of a picoprocess."""
from .loop import Monitor
from .origin import Origin, Url, check_same_origin, parse_origin, parse_url
from .picoprocess import ExitReport, Limits, Picoprocess
from .stdio import Stdio

__all__ = ["ExitReport", "Limits", "Monitor", "Origin", "Picoprocess", "Stdio", "Url",
           "check_same_origin", "parse_origin", "parse_url"]
