"""The ``mediacheck`` command, one module per command group: ``check`` (check, probe, profiles,
profile), ``batch``, ``export``, ``fix`` and ``service`` (serve, worker, migrate, campaign,
apikey, cleanup); ``main`` builds the parser and runs a command; ``terminal`` holds what they
print for people (the report table, the verdict words) and the exit codes. Each imports only
what a command needs, inside the command, so that ``mediacheck check`` starts fast."""
