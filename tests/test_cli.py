"""The CLI surface: every command has help with an example and is documented in the README or docs/."""
from __future__ import annotations

import click
from click.testing import CliRunner

from skinmap.cli import cli


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in group.commands.items():
        full = f"{prefix}{name}"
        found.append((full, command))
        if isinstance(command, click.Group):
            found += _commands(command, full + " ")
    return found


def test_every_command_has_help_with_example_and_readme_entry(repo_root):
    readme = "\n".join(p.read_text() for p in [repo_root / "README.md", *sorted((repo_root / "docs").glob("*.md"))])
    for name, command in _commands(cli):
        assert command.help and len(command.help.strip()) > 20, name
        if not isinstance(command, click.Group) or name == "db":
            assert "Example:" in command.help, f"`skinmap {name}` help needs an example"
        assert f"skinmap {name}" in readme, f"`skinmap {name}` is not documented in README.md or docs/"


def test_bad_input_gives_a_clear_error(tmp_path, atlas_db):
    runner = CliRunner()
    result = runner.invoke(cli, ["--database-url", atlas_db, "ingest", "--dataset", "x"])
    assert result.exit_code != 0
    assert "source_key" in result.output
    result = runner.invoke(cli, ["--database-url", atlas_db, "kpi", "kpi_nothing_here"])
    assert result.exit_code != 0 and "no KPI view" in result.output
    result = runner.invoke(cli, ["--database-url", "postgresql://nobody@127.0.0.1:1/none", "kpi"])
    assert result.exit_code != 0 and "Cannot connect" in result.output


def test_db_commands_use_the_embedded_server(server_url):
    import os

    runner = CliRunner()
    if os.environ.get("SKINMAP_DATABASE_URL"):  # an external server is never SkinMap's to stop
        refused = runner.invoke(cli, ["db", "stop"])
        assert refused.exit_code != 0 and "not SkinMap's to stop" in refused.output
        return
    url = runner.invoke(cli, ["db", "url"])
    assert url.exit_code == 0 and url.output.strip().endswith(os.environ["SKINMAP_HOME"] + "/pgdata")
    status = runner.invoke(cli, ["db", "status"])
    assert status.exit_code == 0 and "running" in status.output and "pgvector 0.8" in status.output
