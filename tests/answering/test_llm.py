import pytest

from assistant.answering.llm import LLMError, llm_config, stream_chat
from assistant.config import Settings


def config_for(base_url: str, **extra):
    return llm_config(Settings(llm_base_url=base_url, llm_model="qwen2.5-7b-instruct", **extra))


def test_no_model_configured_means_no_llm():
    assert llm_config(Settings()) is None
    assert llm_config(Settings(llm_base_url="http://127.0.0.1:8000/v1")) is None


def test_ollama_uses_its_openai_compatible_v1_endpoint():
    cfg = llm_config(Settings(llm_provider="ollama", llm_model="qwen2.5:7b"))
    assert cfg.base_url == "http://127.0.0.1:11434/v1"
    cfg = llm_config(
        Settings(llm_provider="ollama", llm_model="q", llm_base_url="http://gpu:11434/")
    )
    assert cfg.base_url == "http://gpu:11434/v1"


def test_unknown_provider_is_a_clear_error():
    with pytest.raises(LLMError, match="unknown LLM provider 'claude'"):
        llm_config(Settings(llm_provider="claude", llm_model="x"))


def test_streaming_reply_arrives_in_pieces(fake_llm):
    fake_llm.reply = "庄浪县严格落实双减政策[1]。"
    pieces = list(stream_chat(config_for(fake_llm.base_url, llm_api_key="sk-test"), "系统", "用户"))
    assert len(pieces) > 1
    assert "".join(pieces) == fake_llm.reply
    request = fake_llm.requests[-1]
    assert request["body"]["stream"] is True
    assert request["body"]["model"] == "qwen2.5-7b-instruct"
    assert request["auth"] == "Bearer sk-test"
    assert [m["role"] for m in request["body"]["messages"]] == ["system", "user"]


def test_non_streaming_reply_is_one_json_completion(fake_llm):
    fake_llm.reply = "整段回答[2]。"
    pieces = list(stream_chat(config_for(fake_llm.base_url), "系统", "用户", stream=False))
    assert pieces == ["整段回答[2]。"]
    assert not fake_llm.requests[-1]["body"].get("stream")


def test_unreachable_endpoint_is_one_line_error(closed_port):
    cfg = config_for(f"http://127.0.0.1:{closed_port}/v1", llm_timeout=5)
    with pytest.raises(LLMError) as info:
        list(stream_chat(cfg, "系统", "用户"))
    message = str(info.value)
    assert "\n" not in message
    assert f"127.0.0.1:{closed_port}" in message and "Connection" in message


def test_server_error_is_one_line_error(fake_llm):
    fake_llm.status = 500
    with pytest.raises(LLMError, match="failed: .*500|model overloaded"):
        list(stream_chat(config_for(fake_llm.base_url), "系统", "用户"))
