"""cleaner: strip boilerplate from scraped article text.

>>> from cleaner import clean, load_rules
>>> clean("Featured Image Credit: Alamy\nThe council met on Tuesday to vote on the budget.\n")
'The council met on Tuesday to vote on the budget.\n'
"""

from .engine import Removal, Result, RuleSet, clean, load_rules
from .errors import CleanerError, RuleError, RuleTimeout
from .integrations.core import Cleaner

__all__ = [
    "clean",
    "Cleaner",
    "load_rules",
    "RuleSet",
    "Result",
    "Removal",
    "CleanerError",
    "RuleError",
    "RuleTimeout",
]
__version__ = "0.1.0"
