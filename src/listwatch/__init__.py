"""listwatch: who is on which government restriction list, since when, why, what it
obliges you to do, and what the news says about it — with the evidence for every fact."""

__version__ = "0.1.0"
