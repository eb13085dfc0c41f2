"""Every `skinmap …` line in the README and docs/ names a real command with options it accepts.

The lines are parsed by the CLI itself (click's own parser, nothing run), so
a renamed command or option in the code fails here before a reader meets it.
"""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import click

from skinmap.cli import cli

FENCE = re.compile(r"```(?:bash|sh|console)?\n(.*?)```", re.S)
INLINE = re.compile(r"(?<!`)`(skinmap [^`]+)`(?!`)")
PLACEHOLDER = re.compile(r"<[a-z_ ]+>|\.\.\.|…")  # `skinmap ingest <name>`: a pattern, not a line to run


def documented_command_lines(repo_root: Path) -> list[tuple[str, str, bool]]:
    """(file, line, is_complete): shell lines in code blocks that run `skinmap` (complete invocations), and
    inline mentions such as `skinmap db start --port N` in prose (a command and its option names only)."""
    found = []
    for path in [repo_root / "README.md", *sorted((repo_root / "docs").glob("*.md"))]:
        text = path.read_text()
        for span in INLINE.findall(FENCE.sub("", text)):
            if not PLACEHOLDER.search(span):
                found.append((path.name, span, False))
        for block in FENCE.findall(text):
            for raw in block.replace("\\\n", " ").splitlines():  # continuation lines joined
                if PLACEHOLDER.search(raw):
                    continue
                line = raw.split(" #", 1)[0].strip().lstrip("$ ").strip()
                for part in re.split(r"&&|\|\||;|\$\(|\)", line):
                    words = part.strip().split()
                    while words and "=" in words[0] and not words[0].startswith("-"):
                        words = words[1:]  # VAR=value prefixes
                    if words and words[0] in ("skinmap", ".venv/bin/skinmap"):
                        found.append((path.name, " ".join(words), True))
    return found


def check_names(line: str) -> None:
    """An inline mention: the command path exists and every --option it shows is one of that command's."""
    words = line.split()[1:]
    while words and words[0] in ("--atlas", "--database-url"):  # the group's own options, with their value
        words = words[2:]
    command: click.Command = cli
    while isinstance(command, click.Group) and words and not words[0].startswith("-"):
        sub = command.get_command(click.Context(command), words[0])
        if sub is None:
            if command is cli:
                raise click.UsageError(f"no such command {words[0]!r}")
            break  # an argument of the group's command
        command, words = sub, words[1:]
    known = {opt for param in command.params for opt in [*param.opts, *param.secondary_opts]} | {"--help", "-h"}
    if command is not cli:
        known |= {opt for param in cli.params for opt in param.opts}
    unknown = [w.split("=")[0] for w in words if w.startswith("--") and w.split("=")[0] not in known]
    if unknown:
        raise click.UsageError(f"{command.name} has no option {', '.join(unknown)}")


def parse(line: str) -> None:
    """Parse like the shell and click would, down to the last subcommand, without running it."""
    args = shlex.split(line)[1:]
    command: click.Command = cli
    name = "skinmap"
    while True:
        ctx = command.make_context(name, list(args), resilient_parsing=False)
        if not isinstance(command, click.Group):
            return
        rest = [*ctx._protected_args, *ctx.args]
        if not rest:
            return
        name, command, args = command.resolve_command(ctx, rest)
        if command is None:
            raise click.UsageError(f"no such command {name!r}")


def test_every_documented_command_line_parses(repo_root):
    lines = documented_command_lines(repo_root)
    assert len(lines) > 20
    failed = []
    for where, line, is_complete in lines:
        try:
            (parse if is_complete else check_names)(line)
        except (click.ClickException, click.exceptions.Exit) as exc:
            if isinstance(exc, click.exceptions.Exit) and exc.exit_code == 0:
                continue  # --help, --version
            if isinstance(exc, click.BadParameter) and "does not exist" in exc.format_message():
                continue  # the reader's own files (HAM10000_metadata.csv): the line itself parsed
            failed.append(f"{where}: {line}: {exc}")
    assert not failed, "\n".join(failed)


def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as dashes."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_link_between_the_docs_resolves(repo_root):
    pages = [repo_root / "README.md", *sorted((repo_root / "docs").glob("*.md"))]
    broken = []
    for page in pages:
        for target in re.findall(r"\]\(([^)\s]+)\)", FENCE.sub("", page.read_text())):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists():
                broken.append(f"{page.name}: {target} (no such file)")
            elif anchor and linked.suffix == ".md":
                headings = re.findall(r"(?m)^#+ (.+)$", FENCE.sub("", linked.read_text()))
                if anchor not in {_anchor(h) for h in headings} | {h.strip() for h in headings}:
                    broken.append(f"{page.name}: {target} (no such heading)")
    assert not broken, "\n".join(broken)
