"""`skinmap ingest`: where images and metadata enter the atlas."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from skinmap.cli import cli
from skinmap.commands._common import atlas_url, friendly


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
@friendly
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
    summary = run_ingest(atlas_url(ctx), mapping, workers=workers, progress=sys.stderr.isatty())
    for line in summary.lines():
        click.echo(line)
