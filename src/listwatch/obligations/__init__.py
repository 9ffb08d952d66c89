"""What a listing obliges a given kind of user to do on a given date."""

from listwatch.obligations.engine import Duty, Role, duty_dates, load_roles, obligations

__all__ = ["Duty", "Role", "duty_dates", "load_roles", "obligations"]
