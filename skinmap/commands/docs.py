"""`skinmap docs`: the dbt documentation of the KPI views, written to a folder or served."""
from __future__ import annotations

import tempfile
from pathlib import Path

import click

from skinmap.cli import cli
from skinmap.commands._common import atlas_url, friendly


@cli.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write the static site (index.html, manifest.json, catalog.json) to this folder.")
@click.option("--serve", "is_serving", is_flag=True, help="Serve the site on 127.0.0.1 until Ctrl-C.")
@click.option("--port", type=int, default=8080, show_default=True, help="Port for --serve.")
@click.pass_context
@friendly
def docs(ctx, out_dir: Path | None, is_serving: bool, port: int) -> None:
    """Generate the dbt docs (models, columns, contracts, lineage) offline from the atlas.

    \b
    Example:
        skinmap docs --out atlas-docs      # open atlas-docs/index.html
        skinmap docs --serve --port 8080
    """
    from skinmap.docs_site import serve, write_site

    if out_dir is None and not is_serving:
        raise click.ClickException("say where the docs go: --out DIR, --serve, or both")
    site = out_dir or Path(tempfile.mkdtemp(prefix="skinmap-docs-"))
    views = write_site(atlas_url(ctx), site)
    click.echo(f"wrote {site}: {len(views)} kpi views catalogued")
    if is_serving:
        try:
            server = serve(site, port)
        except OSError as exc:
            raise click.ClickException(f"cannot listen on 127.0.0.1:{port} ({exc}): choose another --port") from exc
        click.echo(f"serving http://127.0.0.1:{port}/ (Ctrl-C stops)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
