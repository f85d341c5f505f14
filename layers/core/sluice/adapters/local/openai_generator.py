"""OpenAiGenerator: answers through any OpenAI-compatible chat endpoint.

For users who run a local LLM server (llama.cpp, vLLM, Ollama...) or a hosted
one. Retrieved passages go in as numbered, quoted data, never as instructions;
the model cites them as [n], and the markers it uses become citations (see
``sluice.adapters.prompting``, shared with the Bedrock generator).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import httpx

from sluice.adapters.prompting import SYSTEM_PROMPT, abstain, finish, user_prompt
from sluice.domain.errors import BackendError, ThrottledError
from sluice.domain.models import Answer, Hit, Usage


class OpenAiGenerator:
    """Chat completions (streaming or not) against ``{base_url}/chat/completions``."""

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str = "",
        timeout_s: float = 60.0,
        max_tokens: int = 512,
        client: httpx.Client | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = client or httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout_s)
        self.model_id = model
        self._max_tokens = max_tokens

    def answer(self, question: str, hits: Sequence[Hit]) -> Answer:
        if not hits:
            return abstain(self.model_id)
        body = self._call(self._request(question, hits, stream=False))
        try:
            text = body["choices"][0]["message"]["content"] or ""
        except (KeyError, IndexError, TypeError) as exc:
            raise BackendError("the chat endpoint returned a response without choices[0].message.content") from exc
        return finish(text, hits, _usage(body.get("usage")), self.model_id)

    def stream(self, question: str, hits: Sequence[Hit]) -> Iterator[str | Answer]:
        if not hits:
            yield abstain(self.model_id)
            return
        parts: list[str] = []
        usage = Usage()
        request = self._request(question, hits, stream=True)
        try:
            with self._client.stream("POST", "/chat/completions", json=request) as response:
                _raise_for_status(response)
                for event in _sse_json(response.iter_lines()):
                    usage = _usage(event.get("usage")) if event.get("usage") else usage
                    for choice in event.get("choices") or []:
                        piece = (choice.get("delta") or {}).get("content") or ""
                        if piece:
                            parts.append(piece)
                            yield piece
        except httpx.HTTPError as exc:
            raise BackendError(f"the chat endpoint failed: {exc}") from exc
        yield finish("".join(parts), hits, usage, self.model_id)

    def _request(self, question: str, hits: Sequence[Hit], *, stream: bool) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": self.model_id,
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": user_prompt(question, hits)},
            ],
            "temperature": 0,
            "max_tokens": self._max_tokens,
            "stream": stream,
        }
        if stream:
            request["stream_options"] = {"include_usage": True}
        return request

    def _call(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self._client.post("/chat/completions", json=request)
        except httpx.HTTPError as exc:
            raise BackendError(f"the chat endpoint could not be reached: {exc}") from exc
        _raise_for_status(response)
        try:
            body = response.json()
        except ValueError as exc:
            raise BackendError("the chat endpoint returned something that is not JSON") from exc
        if not isinstance(body, dict):
            raise BackendError("the chat endpoint returned JSON that is not an object")
        return body


def _raise_for_status(response: httpx.Response) -> None:
    if response.status_code == 429:
        raise ThrottledError("the chat endpoint is rate limiting; try again shortly")
    if response.status_code >= 400:
        response.read()
        raise BackendError(f"the chat endpoint answered HTTP {response.status_code}: {response.text[:200]}")


def _sse_json(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        try:
            event = json.loads(data)
        except json.JSONDecodeError:
            continue
        if isinstance(event, dict):
            yield event


def _usage(raw: Any) -> Usage:
    if not isinstance(raw, dict):
        return Usage()
    return Usage(input_tokens=int(raw.get("prompt_tokens") or 0), output_tokens=int(raw.get("completion_tokens") or 0))
