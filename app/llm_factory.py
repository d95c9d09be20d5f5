"""Builds the LLM classifier from Settings: chat adapter, record/replay cache, prices, calibration."""

from __future__ import annotations

from pathlib import Path

from agent.classifiers.base import CauseScores, Classifier, ClassifierInput
from agent.classifiers.llm import LlmClassifier, LlmOptions
from agent.classifiers.llm_calibration import load_calibration
from agent.deps import ClassifierSlot
from core.settings import Settings
from core.taxonomy import Taxonomy, load_taxonomy
from prompts import load_prompt
from tools.llm.base import ChatModel
from tools.llm.cache import CachedChatModel
from tools.llm.pricing import load_prices

CLASSIFY_PROMPT = "classify"


class SlotFallback:
    """Delegates to whatever local classifier the slot holds now, so retraining reaches the fallback."""

    def __init__(self, slot: ClassifierSlot) -> None:
        self.slot = slot

    @property
    def name(self) -> str:
        """Returns the name of the classifier in the slot."""
        return self.slot.current.name

    async def score(self, item: ClassifierInput) -> CauseScores:
        """Scores with the slot's current classifier."""
        return await self.slot.current.score(item)


def build_chat_model(settings: Settings) -> ChatModel:
    """Returns the OpenAI-compatible chat adapter configured by the settings."""
    # Imported here: the OpenAI SDK costs about a second of start-up that local runs never use.
    from tools.llm.openai_chat import OpenAiChatModel

    return OpenAiChatModel(
        model=settings.llm_model,
        base_url=settings.openai_base_url,
        api_key=settings.openai_key,
        timeout_s=settings.llm_timeout_s,
        max_attempts=settings.llm_max_attempts,
        max_concurrency=settings.llm_max_concurrency,
    )


def build_llm_classifier(
    settings: Settings,
    fallback: Classifier,
    data_dir: Path,
    *,
    taxonomy: Taxonomy | None = None,
    replay_dir: Path | None = None,
    chat: ChatModel | None = None,
    options: LlmOptions | None = None,
) -> LlmClassifier:
    """Returns the LLM classifier; with replay_dir it answers only from recordings, never the network."""
    prompt = load_prompt(CLASSIFY_PROMPT)
    model: ChatModel
    if replay_dir is not None:
        model = CachedChatModel(
            None, replay_dir, mode="replay", prompt_hash=prompt.sha256, model=settings.llm_model
        )
    else:
        model = chat or build_chat_model(settings)
        if settings.llm_cache_dir is not None:
            model = CachedChatModel(
                model, settings.llm_cache_dir, mode="record", prompt_hash=prompt.sha256
            )
    calibration = load_calibration(data_dir, settings.llm_model)
    if options is None and calibration is not None and calibration.blend_weight is not None:
        # The map was fitted with this blend weight; one without the other is not calibrated.
        options = LlmOptions(blend_weight=calibration.blend_weight)
    return LlmClassifier(
        model,
        taxonomy or load_taxonomy(settings.taxonomy_file),
        prompt,
        fallback,
        prices=load_prices(settings.llm_price_file),
        calibration=calibration,
        options=options,
    )
