"""The `skinmap` command. Commands are thin: parse options, call one library function, report."""
from __future__ import annotations

import click

from skinmap import config


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--database-url", envvar=config.DATABASE_URL_ENV, default=None, metavar="URL",
              help="PostgreSQL with pgvector >= 0.8 (default: the embedded database in SKINMAP_HOME).")
@click.option("--atlas", envvar=config.ATLAS_ENV, default=None, metavar="NAME",
              help="Which atlas on that server: `main` (default, database skinmap) or a name such as `demo` "
                   "(database skinmap_demo, written by `skinmap demo`).")
@click.version_option(package_name="skinmap")
@click.pass_context
def cli(ctx: click.Context, database_url: str | None, atlas: str | None) -> None:
    """SkinMap: audit the public dermatology image datasets as one PostgreSQL + pgvector atlas.

    \b
    Example:
        skinmap demo                      # the whole pipeline on a synthetic atlas
        skinmap kpi kpi_representation    # print a KPI view
        skinmap --atlas demo kpi kpi_novelty_by_year
    """
    ctx.ensure_object(dict)
    ctx.obj["database_url"] = database_url
    ctx.obj["atlas"] = atlas


def _register_commands() -> None:
    """Import every module of skinmap/commands/: each adds its commands to `cli`."""
    import importlib
    import pkgutil

    import skinmap.commands as package

    for module in pkgutil.iter_modules(package.__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"skinmap.commands.{module.name}")


_register_commands()
