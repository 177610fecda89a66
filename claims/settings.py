"""Settings of the claims core, read once at the entry point (prefix CLAIMS_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_HOME = Path("~/.local/share/claims")


class Settings(BaseSettings):
    """Every setting of the tool; each is also an environment variable CLAIMS_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="CLAIMS_", extra="ignore")

    home: Path = Field(
        DEFAULT_HOME,
        description="Data folder for the default database, caches (base models, embeddings), "
        "retest artifacts, reports and the lock file.",
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the database; default sqlite:///<home>/claims.db. "
        "PostgreSQL: postgresql+psycopg://user:pass@host/db.",
    )
    arxiv_url: str = Field(
        "https://export.arxiv.org/api/query",
        description="arXiv API endpoint (a mirror or a loopback server for tests).",
    )
    arxiv_categories: list[str] = Field(
        ["cs.LG", "cs.CL", "cs.AI", "stat.ML"],
        description="Categories the weekly sweep watches.",
    )
    arxiv_delay_seconds: float = Field(3.0, ge=0, allow_inf_nan=False, description="Minimum seconds between arXiv requests (API terms: 3).")
    arxiv_timeout_seconds: float = Field(30.0, gt=0, allow_inf_nan=False, description="HTTP timeout of one arXiv request.")
    arxiv_retries: int = Field(4, ge=0, le=20, description="Retries of a failed arXiv request, with exponential backoff.")
    s2_url: str = Field("https://api.semanticscholar.org/graph/v1",
                        description="Semantic Scholar Graph API base URL (forward citations; a loopback server in tests).")
    s2_api_key: SecretStr | None = Field(None, description="Semantic Scholar API key (a secret; sent as x-api-key). "
                                         "Optional: without one the shared public rate limit applies.")
    s2_delay_seconds: float = Field(1.0, ge=0, allow_inf_nan=False,
                                    description="Minimum seconds between Semantic Scholar requests (API key terms: 1 per second).")
    s2_timeout_seconds: float = Field(30.0, gt=0, allow_inf_nan=False, description="HTTP timeout of one Semantic Scholar request.")
    s2_retries: int = Field(4, ge=0, le=20, description="Retries of a failed Semantic Scholar request (429 honours Retry-After).")
    s2_citations: bool = Field(True, description="Fetch forward citations (Semantic Scholar) of the papers claims rest "
                               "on in arXiv runs (not with --corpus).")
    s2_max_citations: int = Field(500, ge=0, le=100000,
                                  description="Citing papers read per cited paper and run (0: forward citations off).")
    search_top_k: int = Field(20, ge=1, le=10000, description="Candidates kept per claim on a weekly sweep (a week's new papers).")
    search_backfill_limit: int = Field(50, ge=1, le=10000, description="Candidates kept per claim on its first search (backfill): recall first.")
    search_threshold: float = Field(0.2, ge=-1, le=1, allow_inf_nan=False, description="Minimum relevance score (claim cosine, -1 to 1) for a candidate.")
    llm_base_url: str | None = Field(
        None,
        description="OpenAI-compatible endpoint of the stance judge, e.g. http://127.0.0.1:8000/v1 "
        "for `vllm serve` or https://api.openai.com/v1. Unset: rank only, no judging.",
    )
    llm_model: str = Field("gpt-4o-mini", description="Model name sent to the judge endpoint.")
    llm_api_key: SecretStr = Field(SecretStr("EMPTY"), description="API key of the judge endpoint (a secret).")
    llm_timeout_seconds: float = Field(60.0, gt=0, allow_inf_nan=False, description="Timeout of one judge request.")
    llm_concurrency: int = Field(4, ge=1, le=256, description="Judge requests in flight at once.")
    judge_budget: int = Field(
        250, ge=0, description="Judgements the LLM may make in one run, all claims together (250: five claims with "
        "50 candidates each on their first search; 0: none). Every candidate that needs a judgement is judged "
        "within it: carried over first, then likely dissent, then by rank, round-robin across claims "
        "(claims.judging); what it leaves is reported and judged on the next run."
    )
    retest_budget: int = Field(
        2, ge=0, description="Retests the agent may queue in one run (requested first, then contradicted, then overdue)."
    )
    retest_workers: int | None = Field(
        None, ge=1, description="Retest runs trained side by side (passed to retest.parallel by the retest commands and "
        "the weekly job); "
        "unset: 2 on a CPU with 2+ cores, 1 on a GPU; 1 trains them in order."
    )
    reviewers: list[str] = Field(
        [], description="If set, only these names may approve or reject proposals (UI and CLI)."
    )

    @field_validator("arxiv_url", "llm_base_url", "s2_url")
    @classmethod
    def _http_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value == "" and info.field_name == "llm_base_url":  # CLAIMS_LLM_BASE_URL= (empty): unset
            return None
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        return value

    @property
    def resolved_home(self) -> Path:
        return self.home.expanduser()

    @property
    def retest_cache_dir(self) -> Path:
        """Cached base models and GRPO runs of the retest engine: <home>/cache/retest."""
        return self.resolved_home / "cache" / "retest"

    @property
    def retest_artifacts_dir(self) -> Path:
        """Each retest run's files (metrics.json), for the CLI and the weekly job alike:
        <home>/artifacts/retests/<protocol>-<preset>-<timestamp>/."""
        return self.resolved_home / "artifacts" / "retests"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.resolved_home / 'claims.db'}"
