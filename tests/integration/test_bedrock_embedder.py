"""BedrockEmbedder against a real bedrock-runtime client whose calls are stubbed.

The Stubber checks every request against the service model, and
``expected_params`` pins the exact JSON body bytes sent to each model.
"""

import io
import json
import math

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from sluice.adapters.aws.bedrock_embedder import BedrockEmbedder
from sluice.domain.errors import BackendError, ConfigurationError, ThrottledError

TITAN = "amazon.titan-embed-text-v2:0"
COHERE = "cohere.embed-english-v3"


@pytest.fixture
def client():
    return boto3.client("bedrock-runtime", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")


def reply(body: dict, headers: dict | None = None) -> dict:
    data = json.dumps(body).encode()
    response = {"body": StreamingBody(io.BytesIO(data), len(data)), "contentType": "application/json"}
    if headers:
        response["ResponseMetadata"] = {"HTTPHeaders": headers, "HTTPStatusCode": 200}
    return response


def invoked(model: str, body: bytes) -> dict:
    return {"modelId": model, "body": body, "contentType": "application/json", "accept": "application/json"}


def vector(dimension: int, first: float = 3.0, second: float = 4.0) -> list[float]:
    return [first, second] + [0.0] * (dimension - 2)


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.mark.parametrize("dimensions", [256, 512, 1024])
def test_titan_body_per_dimension(client, dimensions):
    stub = Stubber(client)
    body = f'{{"inputText": "lock gates", "dimensions": {dimensions}, "normalize": true}}'.encode()
    stub.add_response("invoke_model", reply({"embedding": vector(dimensions), "inputTextTokenCount": 3}),
                      invoked(TITAN, body))
    with stub:
        embedder = BedrockEmbedder(TITAN, dimensions=dimensions, client=client)
        got = embedder.embed_query("lock gates")
    stub.assert_no_pending_responses()
    assert len(got) == embedder.dimension == dimensions
    assert got[:2] == pytest.approx([0.6, 0.8])  # unit length whatever the model sent
    assert embedder.tokens_used == 3 and embedder.max_tokens == 8192


def test_titan_batch_is_one_call_per_text_in_order(client):
    stub = Stubber(client)
    for n, text in enumerate(["one", "two", "three"]):
        body = f'{{"inputText": "{text}", "dimensions": 256, "normalize": true}}'.encode()
        stub.add_response("invoke_model", reply({"embedding": vector(256, n + 1.0, 0.0), "inputTextTokenCount": 1}),
                          invoked(TITAN, body))
    with stub:
        embedder = BedrockEmbedder(TITAN, dimensions=256, client=client, max_concurrency=1)
        vectors = embedder.embed_documents(["one", "two", "three"])
    assert [v[0] for v in vectors] == [1.0, 1.0, 1.0] and embedder.tokens_used == 3


class EchoClient:
    """Answers each Titan call with a vector naming the text it got, from many threads at once."""

    def __init__(self):
        self.calls = 0

    def invoke_model(self, **request):
        self.calls += 1
        n = int(json.loads(request["body"])["inputText"])
        return reply({"embedding": vector(256, float(n + 1), 1.0), "inputTextTokenCount": 2})


def test_concurrent_titan_calls_keep_the_order_of_the_texts():
    client = EchoClient()
    embedder = BedrockEmbedder(TITAN, dimensions=256, client=client, max_concurrency=8)
    vectors = embedder.embed_documents([str(n) for n in range(40)])
    ratios = [round(v[0] / v[1]) for v in vectors]
    assert ratios == list(range(1, 41)) and client.calls == 40 and embedder.tokens_used == 80


def test_cohere_documents_are_batched_by_96_as_search_documents(client):
    texts = [f"passage {n}" for n in range(100)]
    stub = Stubber(client)
    for batch in (texts[:96], texts[96:]):
        body = json.dumps({"texts": batch, "input_type": "search_document", "truncate": "END"}).encode()
        assert body.startswith(b'{"texts": ["passage ') and body.endswith(b'"input_type": "search_document", '
                                                                           b'"truncate": "END"}')
        stub.add_response("invoke_model", reply({"embeddings": [vector(1024)] * len(batch), "id": "x",
                                                 "response_type": "embeddings_floats", "texts": batch},
                                                {"x-amzn-bedrock-input-token-count": str(2 * len(batch))}),
                          invoked(COHERE, body))
    with stub:
        embedder = BedrockEmbedder(COHERE, client=client, max_concurrency=1)
        vectors = embedder.embed_documents(texts)
    stub.assert_no_pending_responses()
    assert len(vectors) == 100 and embedder.dimension == 1024 and embedder.max_tokens == 512
    assert embedder.tokens_used == 200  # from Bedrock's token-count header


def test_cohere_query_is_a_search_query(client):
    stub = Stubber(client)
    body = b'{"texts": ["when do the gates open?"], "input_type": "search_query", "truncate": "END"}'
    stub.add_response("invoke_model", reply({"embeddings": [vector(1024)]}), invoked(COHERE, body))
    with stub:
        embedder = BedrockEmbedder(COHERE, client=client)
        assert len(embedder.embed_query("when do the gates open?")) == 1024
    assert embedder.tokens_used == embedder.count_tokens("when do the gates open?")  # no header: the estimate


def test_throttling_is_retried_with_growing_jittered_pauses(client):
    stub = Stubber(client)
    body = b'{"inputText": "q", "dimensions": 256, "normalize": true}'
    stub.add_client_error("invoke_model", "ThrottlingException", "slow down", 429)
    stub.add_client_error("invoke_model", "ModelNotReadyException", "warming up", 429)
    stub.add_client_error("invoke_model", "ServiceUnavailableException", "busy", 503)
    stub.add_response("invoke_model", reply({"embedding": vector(256)}), invoked(TITAN, body))
    sleeps = Sleeps()
    with stub:
        got = BedrockEmbedder(TITAN, dimensions=256, client=client, sleep=sleeps).embed_query("q")
    assert len(got) == 256
    assert len(sleeps) == 3 and all(0 <= s <= 0.25 * 2**n for n, s in enumerate(sleeps))


def test_throttling_that_never_ends_is_a_throttled_error_after_bounded_attempts(client):
    stub = Stubber(client)
    for _ in range(6):
        stub.add_client_error("invoke_model", "ThrottlingException", "Too many requests", 429)
    sleeps = Sleeps()
    with stub, pytest.raises(ThrottledError, match=TITAN):
        BedrockEmbedder(TITAN, client=client, sleep=sleeps).embed_documents(["a"])
    stub.assert_no_pending_responses()
    assert len(sleeps) == 5


def test_a_model_that_stays_unavailable_is_a_backend_error(client):
    stub = Stubber(client)
    for _ in range(6):
        stub.add_client_error("invoke_model", "InternalServerException", "oops", 500)
    with stub, pytest.raises(BackendError) as caught:
        BedrockEmbedder(TITAN, client=client, sleep=Sleeps()).embed_query("a")
    assert not isinstance(caught.value, ThrottledError)


@pytest.mark.parametrize("body", [
    {"inputTextTokenCount": 3},
    {"embedding": [0.1, 0.2], "inputTextTokenCount": 3},
    {"embedding": ["x"] * 256},
    {"embedding": [0.0] * 256},
])
def test_a_malformed_response_is_a_backend_error(client, body):
    stub = Stubber(client)
    stub.add_response("invoke_model", reply(body))
    with stub, pytest.raises(BackendError, match=TITAN):
        BedrockEmbedder(TITAN, dimensions=256, client=client).embed_query("a")


def test_cohere_returning_fewer_vectors_than_texts_is_a_backend_error(client):
    stub = Stubber(client)
    stub.add_response("invoke_model", reply({"embeddings": [vector(1024)]}))
    with stub, pytest.raises(BackendError, match="one vector per text"):
        BedrockEmbedder(COHERE, client=client).embed_documents(["a", "b"])


def test_validation_error_names_the_model_and_is_not_retried(client):
    stub = Stubber(client)
    stub.add_client_error("invoke_model", "ValidationException", "Malformed input request", 400)
    sleeps = Sleeps()
    with stub, pytest.raises(BackendError, match=f"{TITAN}.*Malformed input request"):
        BedrockEmbedder(TITAN, client=client, sleep=sleeps).embed_query("a")
    assert sleeps == []


def test_access_denied_tells_the_user_to_enable_model_access(client):
    stub = Stubber(client)
    stub.add_client_error("invoke_model", "AccessDeniedException", "You don't have access to the model", 403)
    with stub, pytest.raises(ConfigurationError, match=r"enable model access .* Bedrock console"):
        BedrockEmbedder(TITAN, client=client).embed_query("a")


def test_unsupported_models_and_dimensions_are_configuration_errors(client):
    with pytest.raises(ConfigurationError, match="256, 512 or 1024"):
        BedrockEmbedder(TITAN, dimensions=384, client=client)
    with pytest.raises(ConfigurationError, match="unsupported"):
        BedrockEmbedder("amazon.titan-embed-text-v1", client=client)


def test_token_estimate_errs_high_for_words_and_for_text_without_spaces(client):
    embedder = BedrockEmbedder(TITAN, client=client)
    assert embedder.count_tokens("ten short words " * 10) >= math.ceil(30 * 1.3)
    assert embedder.count_tokens("水" * 400) >= 100
    assert embedder.count_tokens("") == 0


def test_long_cohere_texts_are_cut_to_what_bedrock_accepts(client):
    stub = Stubber(client)
    body = json.dumps({"texts": ["a" * 2048], "input_type": "search_document", "truncate": "END"}).encode()
    stub.add_response("invoke_model", reply({"embeddings": [vector(1024)]}), invoked(COHERE, body))
    with stub:
        BedrockEmbedder(COHERE, client=client).embed_documents(["a" * 5000])
    stub.assert_no_pending_responses()
