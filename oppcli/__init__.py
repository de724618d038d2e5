"""opp: a command-line CRM for sales opportunities, one YAML file per deal in a git repo."""

__version__ = "0.2.0"
