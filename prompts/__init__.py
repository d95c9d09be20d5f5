"""Loads prompt templates from this folder and fingerprints them by the bytes of the file."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import jinja2

PROMPT_DIR = Path(__file__).parent
TEMPLATE_SUFFIX = ".j2"

# Undefined names fail loudly: a misspelt variable must not silently vanish from a prompt.
_ENVIRONMENT = jinja2.Environment(
    undefined=jinja2.StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True
)


@dataclass(frozen=True)
class Prompt:
    """A prompt template's text and the SHA-256 of its file, recorded with every result."""

    name: str
    text: str
    sha256: str

    @cached_property
    def _template(self) -> jinja2.Template:
        return _ENVIRONMENT.from_string(self.text)

    @property
    def sections(self) -> list[str]:
        """Returns the names of the template's top-level blocks (for example system and user)."""
        return list(self._template.blocks)

    def render(self, section: str, **values: Any) -> str:
        """Renders one block of the template with the given values; unknown names are errors."""
        template = self._template
        if section not in template.blocks:
            raise KeyError(f"prompt {self.name!r} has no section {section!r}")
        context = template.new_context(values)
        return "".join(template.blocks[section](context)).strip() + "\n"


def load_prompt(name: str, directory: Path = PROMPT_DIR) -> Prompt:
    """Loads `<name>.j2` from the prompt folder; the hash covers the file's exact bytes."""
    path = directory / f"{name}{TEMPLATE_SUFFIX}"
    raw = path.read_bytes()
    return Prompt(name=name, text=raw.decode("utf-8"), sha256=hashlib.sha256(raw).hexdigest())
