"""`skinmap ingest`: where images and metadata enter the atlas, through an adapter or a mapping."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from skinmap import config
from skinmap.cli import cli
from skinmap.commands._common import atlas_url, friendly


@cli.command()
@click.argument("source", required=False)
@click.option("--metadata", "metadata", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Metadata file (repeatable: ISIC 2019 metadata + ground truth, SCIN cases + labels).")
@click.option("--images", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of image files; leave out for a metadata-only ingest (rows without image file).")
@click.option("--mapping", "mapping_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="YAML column mapping for the generic `mapped` adapter.")
@click.option("--dataset", "slug", help="mapped: dataset slug, e.g. ham10000.")
@click.option("--name", help="mapped: dataset display name.")
@click.option("--release-year", type=int, help="mapped: release year of the dataset.")
@click.option("--modality", type=click.Choice(["clinical", "dermoscopic", "total-body tile", "mixed", "unknown"]))
@click.option("--map", "maps", multiple=True, metavar="FIELD=COLUMN",
              help="mapped: map an atlas field to a metadata column (repeatable), e.g. --map source_key=image_id.")
@click.option("--file-template", help="mapped: image file name built from columns, e.g. '{image_id}.jpg'.")
@click.option("--ignore-column", multiple=True, help="mapped: a column deliberately not mapped (repeatable).")
@click.option("--workers", type=int, default=2, show_default=True, help="Processes that decode and hash images.")
@click.option("--max-pixels", type=click.IntRange(min=1), envvar=config.MAX_PIXELS_ENV, default=config.DEFAULT_MAX_PIXELS,
              show_default=True, help="Pixel budget: an image whose header claims more (width x height) is "
                                      "quarantined unread, e.g. a decompression bomb (env SKINMAP_MAX_PIXELS).")
@click.pass_context
@friendly
def ingest(ctx, source, metadata, images, mapping_file, slug, name, release_year, modality, maps, file_template,
           ignore_column, workers, max_pixels) -> None:
    """Load a dataset's own metadata files (and images) through its adapter.

    SOURCE is an adapter or packaged-mapping name (`skinmap adapters` lists
    them and the files each expects), or `mapped` / a YAML mapping file for
    any other dataset. Folder-per-class datasets (med-node, sd-128, dermnet)
    read --images, or a file listing (`find . -type f > files.txt`) as
    --metadata for a metadata-only ingest.
    Without --images only metadata is loaded, so representation KPIs exist
    before anything is downloaded or embedded. Running it twice adds nothing;
    unusable rows are quarantined with a reason and counted in the summary.

    \b
    Example:
        skinmap ingest ham10000 --metadata HAM10000_metadata.csv --images HAM10000_images
        skinmap ingest isic2019 --metadata ISIC_2019_Training_Metadata.csv \\
            --metadata ISIC_2019_Training_GroundTruth.csv
        skinmap ingest med-node --images complete_mednode_dataset
        skinmap ingest mapped --mapping my_dataset.yaml
    """
    from skinmap.ingest import adapters, packaged

    progress = sys.stderr.isatty()
    if source in adapters.ADAPTERS or source in packaged.names():
        if not metadata and source in adapters.ADAPTERS:
            raise click.ClickException(f"--metadata is required: {adapters.ADAPTERS[source].expects}")
        if not metadata and not images:
            raise click.ClickException(f"--metadata or --images is required: {packaged.expects(source)}")
        summary = adapters.ingest_with(atlas_url(ctx), source, list(metadata), images, workers=workers,
                                       progress=progress, max_pixels=max_pixels)
    else:
        if source not in (None, "mapped"):
            path = Path(source)
            if not (path.is_file() and path.suffix in (".yaml", ".yml")):
                adapters.get(source)  # raises: names the adapters
            mapping_file = path
        if len(metadata) > 1:
            raise click.ClickException("the mapped adapter reads one metadata file")
        mapping = _mapped(mapping_file, metadata[0] if metadata else None, images, slug, name, release_year,
                          modality, maps, file_template, ignore_column)
        from skinmap.ingest import ingest as run_ingest

        summary = run_ingest(atlas_url(ctx), mapping, workers=workers, progress=progress, max_pixels=max_pixels)
    for line in summary.lines():
        click.echo(line)


def _mapped(mapping_file, metadata, images, slug, name, release_year, modality, maps, file_template, ignore_column):
    """The generic mapping: a YAML file, overridden or replaced by options."""
    from skinmap.ingest.mapping import MappingError, build_mapping, read_mapping_file

    raw: dict = {}
    base = Path.cwd()
    if mapping_file:
        raw = read_mapping_file(Path(mapping_file))
        base = Path(mapping_file).resolve().parent
    if not isinstance(raw.get("dataset") or {}, dict) or not isinstance(raw.get("columns") or {}, dict):
        raise MappingError("`dataset` and `columns` must be YAML mappings (key: value)")
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
        if not isinstance(raw.get("ignore_columns") or [], list):
            raise MappingError("`ignore_columns` must be a list, e.g. [dx_type]")
        raw["ignore_columns"] = list(raw.get("ignore_columns") or []) + list(ignore_column)
    return build_mapping(raw, base)
