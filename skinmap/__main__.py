"""`python -m skinmap` = the `skinmap` command."""
from skinmap.cli import cli

cli()
