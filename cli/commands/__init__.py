"""One module per family of commands; each exposes ``COMMANDS: dict[str, Command]``."""
