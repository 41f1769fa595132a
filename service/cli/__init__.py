"""The ``mediacheck`` command, one module per command group. Imports only what a command
needs, inside the command, so that ``mediacheck check`` starts fast."""
