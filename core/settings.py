"""The one Settings object, read once from the environment and turned into dependencies."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Similarity scales differ between embedders, so one threshold cannot serve them all. Each
# value admits about 0.03% of case-message pairs that share no document ref (`python -m
# evals.embedder_bench`, column `threshold`), the share that hashing's tuned 0.6 admits: only
# stronger matches are worth showing the classifier. OpenAI's stays at the old 0.6 until
# measured (it likely wants less); TRIAGE_MESSAGE_MIN_SIMILARITY overrides any of them.
MESSAGE_MIN_SIMILARITY = {"hashing": 0.6, "wordllama": 0.62, "openai": 0.6}


class Settings(BaseSettings):
    """Every knob of the service; environment variables use the TRIAGE_ prefix unless noted."""

    model_config = SettingsConfigDict(env_prefix="TRIAGE_", extra="ignore", populate_by_name=True)

    data_dir: Path = Path("./data")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, validation_alias=AliasChoices("PORT", "TRIAGE_PORT"))
    database_url: str | None = None
    taxonomy_file: Path | None = None
    policy_file: Path | None = None

    classifier: Literal["local", "llm"] | None = None
    conformal_alpha: float = Field(default=0.1, gt=0, lt=1)
    history_neighbours: int = Field(default=5, ge=1, le=50)
    message_neighbours: int = Field(default=5, ge=0, le=50)
    # Unset, it takes the embedder's entry in MESSAGE_MIN_SIMILARITY (see there for why).
    message_min_similarity: float = Field(default=0.6, ge=0, le=1)
    learn_from_outcomes: bool = True
    retrain_debounce_s: float = Field(default=30.0, ge=0)
    # Retrain the local classifier in a child process that reads the history itself: the
    # server's memory stays near its steady state. False trains in process (tests, evals).
    train_in_child: bool = True
    # Train on at most this many history cases: each cause's most recent, in proportion to its
    # share (agent/training.py). The training's memory grows with the cases it trains on, about
    # 16 KiB each; at 10,000 the training process peaks near 440 MiB whatever the history's size,
    # and on a 30,000-case history judgment was no worse than training on all of it
    # (docs/performance.md, "Lean training"). Retrieval always searches the whole history.
    train_max_cases: int = Field(default=10_000, ge=100)

    erp_adapter: Literal["sandbox", "http"] = "sandbox"
    erp_url: str | None = None
    erp_timeout_s: float = 10.0
    erp_max_attempts: int = Field(default=5, ge=1)
    outbox_max_attempts: int = Field(default=8, ge=1)
    # Failed deliveries wait 2, 4, 8 ... seconds, never longer than this.
    outbox_max_backoff_s: float = Field(default=300.0, gt=0)
    # One callback attempt to an orchestrator; the outbox retries a failed one.
    webhook_timeout_s: float = Field(default=10.0, gt=0)
    outbox_poll_s: float = 1.0
    # A worker's claim on an outbox row: longer than the slowest ERP delivery with its retries.
    outbox_lease_s: float = Field(default=300.0, gt=0)
    # A process's claim on running a case's graph; a killed owner's cases recover after it.
    run_lease_s: float = Field(default=120.0, gt=0)
    recovery_poll_s: float = Field(default=30.0, gt=0)
    # How often the worker expires approvals (policy's approval_expiry_hours) and, with Slack,
    # sends SLA reminders and escalations: both are minutes-grained.
    approval_timers_poll_s: float = Field(default=60.0, gt=0)
    # The crash suite's fault injection: the process kills itself the nth time it reaches this
    # point (see core/faults.py). Never set in production.
    crash_at: str | None = None
    crash_case: str | None = None
    crash_after: int = Field(default=1, ge=1)

    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "TRIAGE_OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_BASE_URL", "TRIAGE_OPENAI_BASE_URL")
    )
    llm_model: str = "gpt-4o-mini"
    llm_timeout_s: float = 30.0
    llm_max_attempts: int = Field(default=4, ge=1)
    # Model calls in flight at once per process. Each case makes two in sequence (classify, then
    # propose), so 8 cases at once need 8; with 4 they queued and the service added 18-19% to
    # the model's own latency at 8 clients, with 16 7-10% (docs/performance.md, "LLM overhead").
    llm_max_concurrency: int = Field(default=16, ge=1)
    llm_cache_dir: Path | None = None
    llm_price_file: Path | None = None
    embedder: Literal["hashing", "wordllama", "openai"] = "wordllama"
    embedding_model: str = "text-embedding-3-small"

    slack_bot_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "TRIAGE_SLACK_BOT_TOKEN")
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "TRIAGE_SLACK_SIGNING_SECRET"),
    )
    slack_webhook_url: str | None = None
    slack_api_url: str | None = None
    slack_config_file: Path | None = None

    # How long a verified HTTP Basic password is remembered, so that a reviewer's script does not
    # pay a full argon2 check per request; 0 turns the memory off.
    basic_auth_cache_ttl_s: float = Field(default=60.0, ge=0, le=3600)
    session_secret: SecretStr | None = None
    # The Fernet key that seals callback signing secrets at rest; required with PostgreSQL. The
    # embedded SQLite default generates one into data_dir/secret.key on first start.
    secret_key: SecretStr | None = None
    # Callback URLs that resolve to loopback, link-local or private addresses are refused (at
    # configuration and at delivery) unless this is true, e.g. for a receiver on the same host.
    callback_allow_private: bool = False
    session_max_age_s: int = 8 * 3600
    public_url: str = "http://127.0.0.1:8000"
    # Addresses or networks (comma-separated) whose X-Forwarded-Proto and X-Forwarded-For are
    # believed; "" believes no one. Behind a TLS proxy this is what makes the cookie Secure.
    trusted_proxies: str = "127.0.0.1"

    # Operations. `triage serve` and `triage worker` log JSON lines unless told "text".
    log_format: Literal["json", "text"] = "json"
    # /metrics needs a read or admin key, or a person; true opens it to a scraper on a private
    # network that cannot send a bearer token.
    metrics_public: bool = False
    # Checkpoints of resolved and rejected cases are deleted this long after the case closed;
    # their audit rows and results stay.
    checkpoint_retention_days: float = Field(default=30.0, ge=0)
    # A Chroma server (e.g. http://127.0.0.1:8001) instead of the embedded on-disk index.
    chroma_url: str | None = None

    @model_validator(mode="after")
    def _default_message_similarity(self) -> Settings:
        if "message_min_similarity" not in self.model_fields_set:
            self.message_min_similarity = MESSAGE_MIN_SIMILARITY[self.embedder]
        return self

    @property
    def openai_key(self) -> str | None:
        """Returns the OpenAI-compatible API key in plain text, or None."""
        return self.openai_api_key.get_secret_value() if self.openai_api_key else None

    @property
    def resolved_database_url(self) -> str:
        """Returns the SQLAlchemy URL, defaulting to SQLite in the data directory."""
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'triage.db'}"

    @property
    def is_postgres(self) -> bool:
        """Tells whether the store runs on PostgreSQL."""
        return self.resolved_database_url.startswith("postgresql")

    @property
    def chroma_dir(self) -> Path:
        """Returns the on-disk Chroma directory."""
        return self.data_dir / "chroma"

    @property
    def checkpoint_path(self) -> Path:
        """Returns the SQLite file of the LangGraph checkpointer in the embedded default."""
        return self.data_dir / "checkpoints.db"

    @property
    def model_dir(self) -> Path:
        """Returns where trained classifier artifacts are stored."""
        return self.data_dir / "models"

    @property
    def active_classifier(self) -> Literal["local", "llm"]:
        """Returns the classifier in use: llm only when asked for or when an endpoint is configured."""
        if self.classifier is not None:
            return self.classifier
        return "llm" if (self.openai_api_key or self.openai_base_url) else "local"
