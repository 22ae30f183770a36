"""The optional language model: a LangChain chat model built from the settings, streamed.

Provider "openai" (the default when a base URL is set) is any OpenAI-compatible endpoint —
vLLM, llama.cpp server, DeepSeek, Qwen/DashScope, OpenAI itself — through
``langchain_openai.ChatOpenAI``. Provider "ollama" uses Ollama's OpenAI-compatible ``/v1``
endpoint through the same client (default ``http://127.0.0.1:11434``), so no extra package is
needed. Every failure (connection refused, timeout, HTTP error, bad response) surfaces as one
``LLMError`` with a one-line message; callers fall back to the extractive answer.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from assistant.config import Settings

OLLAMA_DEFAULT_URL = "http://127.0.0.1:11434"
PROVIDERS = ("openai", "ollama")


class LLMError(RuntimeError):
    """The language model could not be used; the message is one line, fit for users."""


@dataclass(frozen=True)
class LLMConfig:
    provider: str
    base_url: str
    model: str
    api_key: str
    timeout: float

    @property
    def description(self) -> str:
        return f"{self.model} @ {self.base_url}"


def llm_config(settings: Settings) -> LLMConfig | None:
    """The LLM settings, or None when no model is configured (the offline default)."""
    provider = (settings.llm_provider or "").strip().lower() or (
        "openai" if settings.llm_base_url else ""
    )
    if not provider or not settings.llm_model:
        return None
    if provider not in PROVIDERS:
        raise LLMError(f"unknown LLM provider {provider!r}; use one of {', '.join(PROVIDERS)}")
    base = (settings.llm_base_url or "").strip()
    if provider == "ollama":
        base = (base or OLLAMA_DEFAULT_URL).rstrip("/")
        if not base.endswith("/v1"):
            base += "/v1"
    elif not base:
        raise LLMError("ASSISTANT_LLM_BASE_URL (llm_base_url) is required for provider 'openai'")
    # OpenAI-compatible local servers accept any key; the client insists on having one.
    return LLMConfig(
        provider=provider,
        base_url=base,
        model=settings.llm_model,
        api_key=settings.llm_api_key or "not-needed",
        timeout=float(settings.llm_timeout),
    )


def chat_model(config: LLMConfig, *, streaming: bool = True):  # -> ChatOpenAI (lazy import)
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        base_url=config.base_url,
        model=config.model,
        api_key=config.api_key,
        streaming=streaming,
        timeout=config.timeout,
        max_retries=1,
        temperature=0.1,
        use_responses_api=False,
    )


def _one_line(exc: BaseException) -> str:
    name = type(exc).__name__
    text = " ".join(str(exc).split())
    if len(text) > 200:
        text = text[:197] + "…"
    return f"{name}: {text}" if text else name


def _text(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # a list of content blocks
        return "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content)
    return ""


def stream_chat(config: LLMConfig, system: str, user: str, *, stream: bool = True) -> Iterator[str]:
    """The model's reply as text pieces; raise ``LLMError`` on any failure.

    With ``stream=True`` the request asks for server-sent chunks and pieces arrive as they are
    generated; with ``stream=False`` it is one plain chat-completions request and one piece.
    """
    from langchain_core.messages import HumanMessage, SystemMessage

    messages: Sequence = [SystemMessage(content=system), HumanMessage(content=user)]
    try:
        model = chat_model(config, streaming=stream)
        if not stream:
            text = _text(model.invoke(messages).content)
            if text:
                yield text
            return
        for chunk in model.stream(messages):
            piece = _text(chunk.content)
            if piece:
                yield piece
    except LLMError:
        raise
    except Exception as exc:  # every client failure becomes one clear message
        raise LLMError(f"LLM {config.description} failed: {_one_line(exc)}") from exc
