"""The settings of the web edge: ``security`` (tokens, demo sign-in, staff sign-in, origins, limits) and ``server``
(uvicorn's timeouts and limits). Part of the one settings tree of :mod:`assistant.settings`, which re-exports them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

#: token secrets shown as examples in the docs, the shipped settings and earlier releases' defaults: never accepted
EXAMPLE_TOKEN_SECRETS = frozenset({
    "change-me-in-production", "change-me", "changeme", "secret", "shared-secret", "shared_secret", "SHARED_SECRET",
    "your-secret", "your-shared-secret", "token-secret"})


class _WebSection(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SecuritySettings(_WebSection):
    token_secret: SecretStr = Field(
        SecretStr(""), description="HMAC secret that signs shopper tokens (shared with the shop's backend). Empty: a "
        "random secret made on first start and kept in <data_dir>/token_secret (mode 0600; the log says where), "
        "reused by later starts. A value shown as an example in the docs (change-me-in-production, ...) stops the "
        "server at start.")
    token_ttl_s: int = Field(3600, description="Lifetime of a shopper token the demo sign-in issues, in seconds.",
                             ge=60)
    max_token_lifetime_s: int = Field(
        24 * 3600, description="Longest a shopper token may still be valid: a token whose expiry is further than this "
        "from now is refused, however it was signed.", ge=60)
    demo_sign_in: bool = Field(
        False, description="Let the chat page and /api/v1/demo sign in as the bundled demo shop's customers (never "
        "imported ones). Local demos only: the server refuses to start with it on an address other than loopback "
        "(scripts/start.sh turns it on).")
    max_message_chars: int = Field(4000, description="Longest shopper message accepted.", ge=10)
    staff_api_key: SecretStr = Field(
        SecretStr(""), description="Service key for scripts: sent as X-API-Key it acts as an admin named 'service' "
        "on every staff route (/api/v1/handovers, /api/v1/copy, customer export and erasure); what it does is "
        "recorded as done by 'service'. Empty: no key works; staff sign in with their accounts (concierge users add).")
    staff_session_ttl_s: int = Field(
        8 * 3600, description="A staff sign-in ends after this many seconds without a request (sliding expiry).",
        ge=60)
    staff_cookie_secure: bool = Field(
        False, description="The site is served over HTTPS (directly or behind a proxy): the staff session and "
        "sign-in cookies are marked Secure (sent over HTTPS only).")
    allowed_origins: list[str] = Field(
        default_factory=list, description="Other origins (scheme://host[:port]) whose pages may call the API from a "
        "browser: the shop's own pages with the chat widget (/widget.js). They get CORS (with credentials) and may "
        "frame the shopper chat; any other origin gets neither, and its state-changing requests to staff routes are "
        "refused (403). The staff pages are never framed.")
    rate_limit_storage: str = Field(
        "memory://", description="Where rate-limit counters live: memory:// (one process) or a Redis URL such as "
        "redis://127.0.0.1:6379 shared by replicas. If the storage fails, requests are let through and logged.")
    rate_limit_prefix: str = Field(
        "concierge", description="Prefix of the rate-limit counters' keys (several shops on one Redis).")
    chat_rate_per_shopper: str = Field(
        "20/minute", description="Chat turns one shopper may send (REST and web chat), e.g. '20/minute' or "
        "'100/hour;20/minute'. Past it: 429 with Retry-After.")
    chat_rate_per_ip: str = Field(
        "60/minute", description="Chat turns from one client address (behind a proxy: server.forwarded_allow_ips "
        "must trust it to see real addresses).")
    guest_sessions: bool = Field(
        True, description="Visitors without a shopper token chat as guests: the server opens a guest conversation "
        "and returns a signed guest token for it (policy and product questions, recommendations from what the "
        "guest said in that conversation only, public offers only; order questions get a link to sign in, "
        "app.sign_in_url). Off: the chat needs a shopper token (401 without one).")
    guest_rate_per_ip: str = Field(
        "30/hour", description="New guest conversations one client address may open (their turns also count in "
        "chat_rate_per_ip and, per guest, chat_rate_per_shopper). Past it: 429 with Retry-After.")
    guest_token_ttl_s: int = Field(
        4 * 3600, description="Lifetime of a guest token, in seconds; every guest reply carries a renewed one, so "
        "only a guest silent this long has to start a new conversation.", ge=60, le=24 * 3600)
    login_rate_per_ip: str = Field(
        "20/minute", description="Failed staff sign-ins from one client address before sign-in from that address is "
        "refused (429 with Retry-After).")
    login_rate_per_username: str = Field(
        "5/minute", description="Failed staff sign-ins for one username from one address before that username is "
        "refused from that address (429); other addresses are only slowed down (login_slowdown_*).")
    login_slowdown_after: int = Field(
        5, description="Failed sign-ins for one username (from any address, in 15 minutes) after which every further "
        "sign-in for it waits before its password is checked: 1 s, doubling with each failure up to "
        "login_slowdown_max_s. The right password keeps working from every address not refused.", ge=1)
    login_slowdown_max_s: float = Field(8.0, description="Longest wait of a slowed-down sign-in, in seconds.", ge=0)
    max_request_bytes: int = Field(
        65536, description="Largest request body accepted on any path, in bytes (413 past it); Gradio events and "
        "file uploads have their own limits (max_ui_event_bytes, knowledge.max_file_mb).", ge=1024)
    max_ui_event_bytes: int = Field(
        1_000_000, description="Largest body of a Gradio page event (/gradio_api/..., /staff/gradio_api/...), in "
        "bytes: the chat page sends the conversation it shows with each message.", ge=1024)
    max_json_depth: int = Field(
        32, description="Deepest nesting of arrays and objects in a JSON request body (422 past it).", ge=4, le=1000)

    @field_validator("chat_rate_per_shopper", "chat_rate_per_ip", "guest_rate_per_ip", "login_rate_per_ip",
                     "login_rate_per_username")
    @classmethod
    def _a_rate(cls, value: str) -> str:
        from limits import parse_many

        try:
            parse_many(value)
        except ValueError as e:
            raise ValueError(f"{value!r} is not a rate such as '20/minute' or '100/hour;20/minute'") from e
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        out = []
        for origin in value:
            text = origin.strip().rstrip("/").lower()
            scheme, sep, rest = text.partition("://")
            if scheme not in ("http", "https") or not sep or not rest or "/" in rest or text == "*":
                raise ValueError(f"{origin!r} is not an origin such as https://shop.example or http://localhost:8080")
            out.append(text)
        return out


class ServerSettings(_WebSection):
    timeout_keep_alive_s: float = Field(
        5.0, description="An idle keep-alive connection is closed after this many seconds (uvicorn "
        "timeout_keep_alive).", gt=0)
    header_timeout_s: float = Field(
        10.0, description="A client must send a whole request head within this many seconds of starting it, and a "
        "request body may pause at most this long between chunks; else the connection is closed.", gt=0)
    max_header_bytes: int = Field(
        16384, description="Largest request head (request line and headers) in bytes (uvicorn "
        "h11_max_incomplete_event_size); past it: 400.", ge=1024)
    limit_concurrency: int | None = Field(
        100, description="Most connections (and running requests) at once; past it new requests get 503 (uvicorn "
        "limit_concurrency). Empty: no limit.", ge=1)
    forwarded_allow_ips: str = Field(
        "127.0.0.1", description="Comma list of proxy addresses trusted to set X-Forwarded-For / X-Forwarded-Proto "
        "(the client address of rate limits, the scheme of the same-origin check). '*' trusts every peer: only when "
        "nothing but the proxy can reach the app.")
