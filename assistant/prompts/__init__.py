"""The LLM prompt templates (``system.txt``, ``answer.txt``) shipped inside the package.

They are package data, so any install (wheel, editable, a source checkout) finds them. A
``prompts/`` folder in the working directory overrides them file by file; the ``prompts_dir``
setting names another folder, which then must hold every template asked for.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

LOCAL_OVERRIDE = Path("prompts")


def read_template(name: str, prompts_dir: Path | None = None) -> str:
    """The text of template ``name`` (``"system"``, ``"answer"``): from ``prompts_dir`` when
    given, else ``./prompts/`` when it has the file, else the copy shipped with the package."""
    filename = f"{name}.txt"
    if prompts_dir is not None:
        path = Path(prompts_dir) / filename
        if not path.is_file():
            raise FileNotFoundError(
                f"prompt template not found: {path} (the prompts_dir setting names "
                f"{prompts_dir}; unset it to use the templates shipped with the package)"
            )
        return path.read_text(encoding="utf-8")
    local = LOCAL_OVERRIDE / filename
    if local.is_file():
        return local.read_text(encoding="utf-8")
    shipped = resources.files(__name__) / filename
    if not shipped.is_file():
        raise FileNotFoundError(f"no prompt template named {name!r} ({filename})")
    return shipped.read_text(encoding="utf-8")
