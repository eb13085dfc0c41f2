"""The `skinmap` subcommands, one module per area; skinmap.cli imports them all."""
