"""Token prices per model and the cost of a call's usage."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from core.errors import ConfigurationError

DEFAULT_PRICE_FILE = Path(__file__).with_name("prices.toml")


class ModelPrice(BaseModel):
    """USD per 1,000 prompt and completion tokens of one model."""

    prompt: float = Field(ge=0)
    completion: float = Field(ge=0)


class _PriceFile(BaseModel):
    models: dict[str, ModelPrice] = Field(default_factory=dict)


@dataclass(frozen=True)
class PriceTable:
    """Prices by model name; a name matches its longest listed prefix."""

    prices: dict[str, ModelPrice]

    def price(self, model: str) -> ModelPrice | None:
        """Returns the price row for a model, or None when the model is not listed."""
        matches = [name for name in self.prices if model == name or model.startswith(name + "-")]
        return self.prices[max(matches, key=len)] if matches else None

    def cost(self, model: str, usage: dict[str, int]) -> float | None:
        """Returns the USD cost of a call's token usage, or None for an unlisted model."""
        row = self.price(model)
        if row is None:
            return None
        prompt = usage.get("prompt_tokens", 0)
        completion = usage.get("completion_tokens", 0)
        return (prompt * row.prompt + completion * row.completion) / 1000.0


def load_prices(override: Path | None = None) -> PriceTable:
    """Loads the shipped price table, with the rows of an override file replacing or adding models."""
    prices = _read(DEFAULT_PRICE_FILE)
    if override is not None:
        prices.update(_read(override))
    return PriceTable(prices)


def _read(path: Path) -> dict[str, ModelPrice]:
    try:
        return dict(_PriceFile.model_validate(tomllib.loads(path.read_text())).models)
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ConfigurationError(f"cannot load LLM price table {path}: {exc}") from exc
