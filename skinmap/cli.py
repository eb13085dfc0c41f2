"""The `skinmap` command. Commands are thin: parse options, call one library function, report."""
from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import click

from skinmap import config


def _friendly(fn):
    """Turn the library's known errors into one-line ClickExceptions that say what to do."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from skinmap.db import DatabaseError
        from skinmap.embedded import EmbeddedServerError
        from skinmap.ingest.mapping import MappingError
        from skinmap.kpi import UnknownKpi

        try:
            return fn(*args, **kwargs)
        except (DatabaseError, EmbeddedServerError, MappingError, UnknownKpi) as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


def _atlas_url(ctx: click.Context) -> str:
    """Resolve the database and bring its schema to head."""
    from skinmap import db, migrate

    return migrate.ready(db.resolve_url(ctx.obj.get("database_url")))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--database-url", envvar=config.DATABASE_URL_ENV, default=None, metavar="URL",
              help="PostgreSQL with pgvector >= 0.8 (default: the embedded database in SKINMAP_HOME).")
@click.version_option(package_name="skinmap")
@click.pass_context
def cli(ctx: click.Context, database_url: str | None) -> None:
    """SkinMap: audit the public dermatology image datasets as one PostgreSQL + pgvector atlas.

    \b
    Example:
        skinmap demo                      # the whole pipeline on a synthetic atlas
        skinmap kpi kpi_representation    # print a KPI view
    """
    ctx.ensure_object(dict)
    ctx.obj["database_url"] = database_url


# --------------------------------------------------------------------------- db
@cli.group()
def db() -> None:
    """Manage the atlas database (the embedded server, or the one SKINMAP_DATABASE_URL names).

    \b
    Example:
        skinmap db start && skinmap db url
    """


@db.command("start")
@click.pass_context
@_friendly
def db_start(ctx: click.Context) -> None:
    """Start (or reuse) the embedded PostgreSQL and migrate the atlas schema.

    \b
    Example:
        SKINMAP_HOME=~/atlas2 skinmap db start
    """
    url = _atlas_url(ctx)
    click.echo(f"atlas ready: {url}")


@db.command("stop")
@click.pass_context
@_friendly
def db_stop(ctx: click.Context) -> None:
    """Stop the embedded PostgreSQL (an external server is never touched).

    \b
    Example:
        skinmap db stop
    """
    from skinmap import embedded

    if ctx.obj.get("database_url"):
        raise click.ClickException("SKINMAP_DATABASE_URL / --database-url is set: that server is not SkinMap's to stop.")
    click.echo("stopped" if embedded.stop() else "the embedded server was not running")


@db.command("status")
@click.pass_context
@_friendly
def db_status(ctx: click.Context) -> None:
    """Say which database is used, whether it runs, and the schema revision.

    \b
    Example:
        skinmap db status
    """
    from skinmap import db as dbmod, embedded, migrate

    if ctx.obj.get("database_url"):
        url = ctx.obj["database_url"]
        click.echo(f"external database: {dbmod.redact(url)}")
    else:
        status = embedded.status()
        click.echo(f"embedded database in {status.pgdata}: {'running, pid ' + str(status.pid) if status.is_running else 'stopped'}")
        if not status.is_running:
            return
        url = embedded.start()
    click.echo(f"pgvector {dbmod.check_pgvector(url)}; schema revision {migrate.current(url) or '(none: run skinmap db start)'}")


@db.command("url")
@click.pass_context
@_friendly
def db_url(ctx: click.Context) -> None:
    """Print the connection URL of the atlas (starts the embedded server if needed).

    \b
    Example:
        psql "$(skinmap db url)" -c 'select * from kpi.kpi_representation_headline_v1'
    """
    from skinmap import db as dbmod

    click.echo(dbmod.resolve_url(ctx.obj.get("database_url")))


@db.command("migrate")
@click.option("--revision", default="head", show_default=True, help="Alembic revision; 'base' empties the schema.")
@click.pass_context
@_friendly
def db_migrate(ctx: click.Context, revision: str) -> None:
    """Upgrade (or downgrade) the atlas schema with alembic.

    \b
    Example:
        skinmap db migrate --revision head
    """
    from skinmap import db as dbmod, migrate

    url = dbmod.resolve_url(ctx.obj.get("database_url"))
    current = migrate.current(url)
    if revision in ("base",) or (current and revision < current and revision != "head"):
        migrate.downgrade(url, revision)
    else:
        migrate.upgrade(url, revision)
    click.echo(f"schema revision: {migrate.current(url)}")


# ----------------------------------------------------------------------- ingest
@cli.command()
@click.argument("mapping_file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--metadata", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Metadata CSV file.")
@click.option("--images", type=click.Path(exists=True, file_okay=False, path_type=Path), help="Folder of image files.")
@click.option("--dataset", "slug", help="Dataset slug, e.g. ham10000.")
@click.option("--name", help="Dataset display name.")
@click.option("--release-year", type=int, help="Release year of the dataset.")
@click.option("--modality", type=click.Choice(["clinical", "dermoscopic", "total-body tile", "mixed", "unknown"]))
@click.option("--map", "maps", multiple=True, metavar="FIELD=COLUMN",
              help="Map an atlas field to a metadata column (repeatable), e.g. --map source_key=image_id.")
@click.option("--file-template", help="Image file name built from columns, e.g. '{image_id}.jpg'.")
@click.option("--ignore-column", multiple=True, help="A column deliberately not mapped (repeatable).")
@click.option("--workers", type=int, default=2, show_default=True, help="Processes that decode and hash images.")
@click.pass_context
@_friendly
def ingest(ctx, mapping_file, metadata, images, slug, name, release_year, modality, maps, file_template,
           ignore_column, workers) -> None:
    """Load a folder of images plus a metadata file through a column mapping.

    MAPPING_FILE is a YAML mapping (see README); options override it or replace
    it. Running it twice adds nothing; unreadable images and bad values are
    quarantined with a reason and counted in the summary.

    \b
    Example:
        skinmap ingest ham10000.yaml
        skinmap ingest --dataset ham10000 --release-year 2018 --modality dermoscopic \\
            --metadata HAM10000_metadata.csv --images HAM10000_images \\
            --map source_key=image_id --file-template '{image_id}.jpg' \\
            --map age=age --map sex=sex --map body_site=localization --map diagnosis=dx
    """
    from skinmap.ingest import ingest as run_ingest
    from skinmap.ingest.mapping import MappingError, build_mapping

    raw: dict = {}
    base = Path.cwd()
    if mapping_file:
        import yaml

        raw = yaml.safe_load(mapping_file.read_text()) or {}
        base = mapping_file.resolve().parent
    dataset = dict(raw.get("dataset") or {})
    for key, value in (("slug", slug), ("name", name), ("release_year", release_year), ("modality", modality)):
        if value is not None:
            dataset[key] = value
    raw["dataset"] = dataset
    if metadata:
        raw["metadata"] = str(metadata.resolve())
    if images:
        raw["images"] = str(images.resolve())
    columns = dict(raw.get("columns") or {})
    for item in maps:
        if "=" not in item:
            raise MappingError(f"--map {item!r}: expected FIELD=COLUMN")
        field, column = item.split("=", 1)
        columns[field.strip()] = column.strip()
    raw["columns"] = columns
    if file_template:
        raw["file_template"] = file_template
    if ignore_column:
        raw["ignore_columns"] = list(raw.get("ignore_columns") or []) + list(ignore_column)
    mapping = build_mapping(raw, base)
    summary = run_ingest(_atlas_url(ctx), mapping, workers=workers, progress=sys.stderr.isatty())
    for line in summary.lines():
        click.echo(line)


# ------------------------------------------------------------------------ embed
@cli.command()
@click.option("--model", default="ViT-B-16", show_default=True,
              help="open_clip architecture (e.g. ViT-B-16, skinmap-tiny-vit) or efficientnet-lite0.")
@click.option("--pretrained", default=None,
              help="Weights: open_clip tag, local checkpoint path, hf-hub:ORG/NAME, or 'none' for random weights.")
@click.option("--device", default=None, help="cpu, cuda or cuda:N (default: cuda if available).")
@click.option("--batch-size", type=int, default=64, show_default=True)
@click.option("--workers", type=int, default=None, help="Decoding processes (default: cores - 1).")
@click.option("--limit", type=int, default=None, help="Embed at most N images (then stop; rerun to continue).")
@click.pass_context
@_friendly
def embed(ctx, model, pretrained, device, batch_size, workers, limit) -> None:
    """Embed every image that has no vector for MODEL yet (restartable).

    \b
    Example:
        skinmap embed --model ViT-B-16 --pretrained laion2b_s34b_b88k --device cuda --batch-size 512
        skinmap embed --model efficientnet-lite0                  # offline ImageNet weights
        skinmap embed --model skinmap-tiny-vit --pretrained none  # random weights (tests)
    """
    url = _atlas_url(ctx)
    import torch

    from embedder.models import ModelLoadError, load_encoder
    from embedder.pipeline import embed_images

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    try:
        encoder = load_encoder(model, pretrained, device=device)
    except ModelLoadError as exc:
        raise click.ClickException(str(exc)) from exc
    if encoder.is_random_weights:
        click.echo(f"NOTE: {encoder.model_name} uses RANDOM weights: its vectors cannot show duplicates or novelty.", err=True)
    summary = embed_images(url, encoder, device=device, batch_size=batch_size, workers=workers, limit=limit,
                           progress=sys.stderr.isatty())
    click.echo(summary.line())


# ------------------------------------------------------------------------ build
@cli.command()
@click.option("--select", default=None, help="dbt node selection, e.g. kpi_novelty_by_year+.")
@click.option("--var", "dbt_vars", multiple=True, metavar="NAME=VALUE", help="dbt variable (repeatable), e.g. novelty_k=50.")
@click.pass_context
@_friendly
def build(ctx, select, dbt_vars) -> None:
    """Run `dbt build` (models + tests) on dbt_project/ against the atlas.

    \b
    Example:
        skinmap build --var near_duplicate_max_distance=0.08
    """
    from skinmap.dbt_runner import DbtError, build as dbt_build

    values = {}
    for item in dbt_vars:
        if "=" not in item:
            raise click.ClickException(f"--var {item!r}: expected NAME=VALUE")
        name, value = item.split("=", 1)
        values[name] = json.loads(value) if value.replace(".", "", 1).lstrip("-").isdigit() else value
    try:
        dbt_build(_atlas_url(ctx), select=select, vars=values or None)
    except DbtError as exc:
        raise click.ClickException(str(exc)) from exc


# -------------------------------------------------------------------------- kpi
@cli.command()
@click.argument("view", required=False)
@click.option("--model", "model_name", default=None, help="Only rows of this embedding model.")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print rows as JSON lines.")
@click.pass_context
@_friendly
def kpi(ctx, view, model_name, limit, as_json) -> None:
    """Print a KPI view as a table (without VIEW: list the views).

    \b
    Example:
        skinmap kpi                       # list
        skinmap kpi kpi_novelty_by_year   # latest version of that view
    """
    from skinmap import kpi as kpimod

    url = _atlas_url(ctx)
    if not view:
        for name in kpimod.list_views(url):
            click.echo(name)
        return
    name = kpimod.resolve_view(url, view)
    columns, rows = kpimod.fetch(url, name, where_model=model_name, limit=limit)
    if as_json:
        for row in rows:
            click.echo(json.dumps(dict(zip(columns, row)), default=str))
    else:
        click.echo(f"kpi.{name}")
        click.echo(kpimod.format_table(columns, rows))


# ------------------------------------------------------------------------- demo
@cli.command()
@click.option("--scale", type=float, default=1.0, show_default=True, help="Size of the synthetic atlas (1.0 = ~1,700 images).")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--keep/--fresh", default=False, show_default=True,
              help="Keep the demo database from an earlier run (default: start it fresh).")
@click.pass_context
@_friendly
def demo(ctx, scale, seed, keep) -> None:
    """Generate a synthetic atlas with planted truth, run the whole pipeline, compare KPIs to the truth.

    \b
    Example:
        skinmap demo --scale 0.3
    """
    from skinmap.demo import run_demo

    ok = run_demo(ctx.obj.get("database_url"), scale=scale, seed=seed, fresh=not keep, echo=click.echo)
    if not ok:
        raise click.ClickException("the demo's KPIs did not recover the planted truth (see the table above)")


if __name__ == "__main__":  # pragma: no cover
    cli()
