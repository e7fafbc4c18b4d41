"""The ``llama_server`` fixture: a REAL OpenAI-compatible server (llama.cpp, through
``llama-cpp-python[server]``) on the tiny random-weight model, spoken to with the official
``openai`` SDK.

These pin what the server does with the request shapes an OpenAI provider sends, so a
provider test that fails here fails for the provider's reasons, not the server's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import openai
import pytest

from support.llama_server import run_llama_server
from support.tiny_llama import write_tiny_llama_gguf

pytestmark = pytest.mark.integration

QUESTION = [
    {"role": "system", "content": "Answer from the evidence only. Reply in JSON."},
    {
        "role": "user",
        "content": "Question: Is customer data encrypted at rest?\n"
        "E1: Customer data is encrypted at rest with AES-256.\n"
        "E2: Encryption keys are rotated every year.",
    },
]

DRAFT_SCHEMA = {
    "type": "object",
    "properties": {
        "answer": {"type": "string", "maxLength": 200},
        "verdict": {"type": ["string", "null"], "enum": ["yes", "no", "n/a", None]},
        "citations": {
            "type": "array",
            "items": {"type": "string", "enum": ["E1", "E2"]},
            "maxItems": 3,
        },
        "needs_input": {"type": "boolean"},
    },
    "required": ["answer", "verdict", "citations", "needs_input"],
    "additionalProperties": False,
}


@pytest.fixture
def client(llama_server: str) -> openai.OpenAI:
    # max_retries=0: the server answers request errors with 500, which the SDK would retry.
    return openai.OpenAI(base_url=llama_server, api_key="not-needed", max_retries=0, timeout=30)


def chat(client: openai.OpenAI, **options: object) -> openai.types.chat.ChatCompletion:
    return client.chat.completions.create(
        model="tiny", messages=QUESTION, max_tokens=200, **options  # type: ignore[arg-type]
    )


def test_the_server_lists_the_model(llama_server: str, client: openai.OpenAI) -> None:
    assert llama_server.startswith("http://127.0.0.1:") and llama_server.endswith("/v1")
    models = client.models.list().data
    assert len(models) == 1 and models[0].id.endswith("tiny-llama.gguf")


def test_a_chat_completion_returns_text_and_usage(client: openai.OpenAI) -> None:
    response = chat(client, temperature=0)

    choice = response.choices[0]
    assert choice.finish_reason == "stop"  # the tiny model ends its replies by itself
    assert isinstance(choice.message.content, str) and choice.message.content
    usage = response.usage
    assert usage is not None
    assert usage.prompt_tokens > 50  # the question, templated, in byte-level tokens
    assert 0 < usage.completion_tokens < 200
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_greedy_replies_are_repeatable(client: openai.OpenAI) -> None:
    first, second = (chat(client, temperature=0).choices[0].message.content for _ in range(2))
    assert first == second


@pytest.mark.parametrize("seed", range(5))
def test_json_object_with_a_schema_constrains_the_reply(client: openai.OpenAI, seed: int) -> None:
    """llama-cpp-python's own form: ``{"type": "json_object", "schema": ...}``."""
    response = chat(
        client, response_format={"type": "json_object", "schema": DRAFT_SCHEMA}, seed=seed
    )

    choice = response.choices[0]
    assert choice.finish_reason == "stop"
    draft = json.loads(choice.message.content or "")
    assert list(draft) == ["answer", "verdict", "citations", "needs_input"]
    assert isinstance(draft["answer"], str) and len(draft["answer"]) <= 200
    assert set(draft["citations"]) <= {"E1", "E2"} and len(draft["citations"]) <= 3
    assert isinstance(draft["needs_input"], bool)
    # The grammar drops "enum" when "type" is a list: any string or null gets through.
    assert draft["verdict"] is None or isinstance(draft["verdict"], str)


def test_an_enum_without_a_type_is_enforced(client: openai.OpenAI) -> None:
    schema = json.loads(json.dumps(DRAFT_SCHEMA))
    del schema["properties"]["verdict"]["type"]

    for seed in range(3):
        response = chat(
            client, response_format={"type": "json_object", "schema": schema}, seed=seed
        )
        draft = json.loads(response.choices[0].message.content or "")
        assert draft["verdict"] in ("yes", "no", "n/a", None)


def test_the_openai_json_schema_form_is_refused(client: openai.OpenAI) -> None:
    """llama-cpp-python accepts only "text" and "json_object"; it answers 500, not 400."""
    with pytest.raises(openai.InternalServerError, match="'text' or 'json_object'"):
        chat(
            client,
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "draft", "schema": DRAFT_SCHEMA, "strict": True},
            },
        )


@pytest.fixture(scope="module")
def embedding_server(
    llama_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A second server, with ``--embedding true`` (it asks for ``llama_server`` only so that
    the same installed-or-skipped rule applies)."""
    model = write_tiny_llama_gguf(tmp_path_factory.mktemp("tiny-embed") / "tiny-llama.gguf")
    with run_llama_server(model, extra_args=["--embedding", "true"]) as base_url:
        yield base_url


def test_embeddings_are_one_pooled_vector_per_input(embedding_server: str) -> None:
    client = openai.OpenAI(base_url=embedding_server, api_key="not-needed", max_retries=0)
    texts = ["Customer data is encrypted at rest.", "Keys rotate yearly."]

    batch = client.embeddings.create(model="tiny", input=texts, encoding_format="float")
    single = client.embeddings.create(model="tiny", input=texts[0], encoding_format="float")

    vectors = [item.embedding for item in batch.data]
    assert [len(v) for v in vectors] == [64, 64]
    assert all(isinstance(x, float) for x in vectors[0])
    assert vectors[0] != vectors[1]
    assert single.data[0].embedding == pytest.approx(vectors[0], abs=1e-5)
