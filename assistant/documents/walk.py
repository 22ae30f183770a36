"""Finding the files to ingest: folders walked recursively, and every file not taken reported.

A folder walk takes the supported file types and skips, with a :class:`Skipped` entry each:
hidden files and folders (``.name``, Office lock files ``~$name``), unsupported types, symlinks
whose target lies outside the folder walked (the corpus root), symlink loops, broken symlinks,
special files (FIFOs, devices, sockets: reading one could block) and folders that cannot be
listed. Symlinks to files inside the root are followed; symlinks to folders inside the root are
not (that folder is walked under its own name), except that one leading back to a folder that
contains it is reported as a loop.

A path given directly is taken as named (the user chose it), even when it is missing,
unsupported or a symlink; loading it then reports what is wrong with it.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from assistant.documents.ocr import IMAGE_SUFFIXES

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf", ".docx", *IMAGE_SUFFIXES)

# kind → (singular, plural) of what was skipped, for the summary lines
_SKIP_NOUNS = {
    "unsupported": ("file", "files"),
    "hidden": ("hidden file", "hidden files"),
    "hidden_folder": ("hidden folder", "hidden folders"),
    "symlink_outside": ("symlink outside the corpus", "symlinks outside the corpus"),
    "symlink_loop": ("symlink loop", "symlink loops"),
    "broken_symlink": ("broken symlink", "broken symlinks"),
    "special": ("special file (not a regular file)", "special files (not regular files)"),
    "unreadable": ("entry that cannot be read", "entries that cannot be read"),
}
SUMMARY_NAMES = 5  # a summary line names at most this many files


@dataclass(frozen=True)
class SourceFile:
    path: Path
    rel: str  # posix path relative to the root it was found under; a file given directly: its name


@dataclass(frozen=True)
class Skipped:
    """A file or folder a walk did not take, and why."""

    path: str
    rel: str
    kind: str  # one of the keys of _SKIP_NOUNS
    reason: str  # for one file, e.g. "symlink to /etc/passwd, outside /data/corpus; not followed"
    target: str = ""  # a symlink's target

    @property
    def shown(self) -> str:
        return f"{self.rel} → {self.target}" if self.target else self.rel

    def to_dict(self) -> dict[str, str]:
        return {
            "path": self.path,
            "rel": self.rel,
            "kind": self.kind,
            "reason": self.reason,
            "target": self.target,
        }


@dataclass
class Walk:
    files: list[SourceFile] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def _hidden(name: str) -> bool:
    return name.startswith(".") or name.startswith("~$")


def _real(path: Path) -> Path | None:
    """The fully resolved path, or None for a symlink loop or a missing target."""
    try:
        return path.resolve(strict=True)
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop (Python < 3.13)
        return None


def walk(paths: Sequence[Path]) -> Walk:
    """Files to ingest, each folder's files sorted by relative path, and what was skipped."""
    out = Walk()
    seen: set[Path] = set()
    for given in map(Path, paths):
        if given.is_dir():
            found = _walk_folder(given, out.skipped)
        else:
            found = [SourceFile(given, given.name)]
        for sf in found:
            key = _real(sf.path) or sf.path.absolute()
            if key not in seen:
                seen.add(key)
                out.files.append(sf)
    return out


def discover(paths: Sequence[Path]) -> list[SourceFile]:
    """The files :func:`walk` takes (without the report of what it skipped)."""
    return walk(paths).files


def _walk_folder(root: Path, skipped: list[Skipped]) -> list[SourceFile]:
    root_real = root.resolve()
    found: list[SourceFile] = []
    first_skip = len(skipped)
    todo = [(root, "")]
    while todo:
        folder, prefix = todo.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            rel = prefix.rstrip("/") or "."
            reason = f"folder cannot be listed ({exc.strerror})"
            skipped.append(Skipped(str(folder), rel, "unreadable", reason))
            continue
        for entry in entries:
            path, rel = Path(entry.path), prefix + entry.name

            def skip(
                kind: str, reason: str, target: str = "", path: Path = path, rel: str = rel
            ) -> None:
                skipped.append(Skipped(str(path), rel, kind, reason, target))

            if _hidden(entry.name):
                if entry.is_dir(follow_symlinks=False):
                    skip("hidden_folder", "hidden folder, not read")
                else:
                    skip("hidden", "hidden file, not read")
                continue
            link = entry.is_symlink()
            if link:
                try:
                    real = path.resolve(strict=True)
                except (OSError, RuntimeError) as exc:  # RuntimeError: a loop (Python < 3.13)
                    if isinstance(exc, RuntimeError) or exc.errno == errno.ELOOP:
                        skip("symlink_loop", "symlink loop (the link leads back to itself)")
                    else:
                        skip("broken_symlink", f"symlink to {os.readlink(path)}, which is missing")
                    continue
                if not real.is_relative_to(root_real):
                    skip(
                        "symlink_outside",
                        f"symlink to {real}, outside the folder {root_real}; not followed",
                        str(real),
                    )
                    continue
            try:
                mode = path.stat().st_mode
            except OSError as exc:
                skip("unreadable", f"cannot be read ({exc.strerror})")
                continue
            if stat.S_ISDIR(mode):
                if not link:
                    todo.append((path, rel + "/"))
                elif path.parent.resolve().is_relative_to(real):
                    skip("symlink_loop", f"symlink to {real}, a folder that contains it")
                # else: a link to another folder of the corpus, whose files are read from there
            elif not stat.S_ISREG(mode):
                skip("special", "not a regular file (FIFO, device or socket), not read")
            elif path.suffix.lower() not in SUPPORTED_SUFFIXES:
                suffix = path.suffix.lower() or "(no suffix)"
                skip("unsupported", f"unsupported type {suffix}")
            else:
                found.append(SourceFile(path, rel))
    found.sort(key=lambda s: s.rel)
    skipped[first_skip:] = sorted(skipped[first_skip:], key=lambda s: s.rel)
    return found


def skip_summary(skipped: Sequence[Skipped]) -> list[str]:
    """One line per reason, e.g. "skipped 3 files: unsupported type (.doc, .xlsx): a.doc, …"."""
    by_kind: dict[str, list[Skipped]] = {}
    for s in skipped:
        by_kind.setdefault(s.kind, []).append(s)
    lines = []
    for kind, items in by_kind.items():
        one, many = _SKIP_NOUNS.get(kind, (kind, kind))
        line = f"skipped {len(items)} {one if len(items) == 1 else many}"
        if kind == "unsupported":
            suffixes = dict.fromkeys(Path(s.rel).suffix.lower() or "no suffix" for s in items)
            line += f": unsupported type ({', '.join(suffixes)})"
        names = [s.shown for s in items[:SUMMARY_NAMES]]
        more = len(items) - len(names)
        line += ": " + ", ".join(names) + (f" and {more} more" if more else "")
        lines.append(line)
    return lines
