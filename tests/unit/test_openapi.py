"""The committed OpenAPI document is valid and matches the http rules Envoy transcodes."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.api import annotations_pb2
from google.protobuf import descriptor_pb2
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from PIL import Image
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

GATEWAY = Path(__file__).resolve().parents[2] / "server" / "nomic_serve" / "gateway"
VERBS = ("get", "post", "put", "delete", "patch")
DOCUMENT_URI = "urn:nomic-serve:openapi"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return json.loads((GATEWAY / "openapi.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def schemas(document: dict[str, Any]) -> dict[str, Any]:
    return document["components"]["schemas"]


def _http_rules() -> Iterator[tuple[str, str]]:
    """(verb, path) of every binding in the descriptor set Envoy loads."""
    files = descriptor_pb2.FileDescriptorSet.FromString((GATEWAY / "descriptor.binpb").read_bytes())
    for file in files.file:
        for service in file.service:
            for method in service.method:
                if method.options.HasExtension(annotations_pb2.http):
                    rule = method.options.Extensions[annotations_pb2.http]
                    for binding in (rule, *rule.additional_bindings):
                        verb = binding.WhichOneof("pattern")
                        yield verb, getattr(binding, verb)


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for verb, operation in item.items():
            if verb in VERBS:
                yield verb, path, operation


def _properties(schema: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every property of `schema`, nested ones included, named by where it sits."""
    if isinstance(schema, dict):
        for name, prop in schema.get("properties", {}).items():
            yield f"{where}.{name}", prop
        for key, value in schema.items():
            yield from _properties(value, f"{where}/{key}")
    elif isinstance(schema, list):
        for i, value in enumerate(schema):
            yield from _properties(value, f"{where}[{i}]")


def _validator(document: dict[str, Any], schema_name: str) -> Draft202012Validator:
    """Validates against one component schema, its `$ref`s resolved within the document."""
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    registry = Registry().with_resource(DOCUMENT_URI, resource)
    ref = f"{DOCUMENT_URI}#/components/schemas/{schema_name}"
    return Draft202012Validator({"$ref": ref}, registry=registry)


def test_document_is_valid_openapi_31(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    validate(document, cls=OpenAPIV31SpecValidator)


def test_info_comes_from_the_package_and_service(document: dict[str, Any]) -> None:
    from nomic_serve import __version__

    assert document["info"]["version"] == __version__
    assert document["info"]["description"].startswith("EmbeddingService serves")


def test_every_http_rule_is_documented_and_nothing_else(document: dict[str, Any]) -> None:
    documented = {(verb, path) for verb, path, _ in _operations(document)}
    assert documented == set(_http_rules())
    original = {"/embed", "/txt/embed", "/query", "/txt/query", "/batch", "/txt/batch"}
    original |= {"/img/embed", "/img/batch", "/img/stats", "/v1/embeddings"}
    assert {("post", path) for path in original} | {
        ("get", "/health"),
        ("get", "/info"),
    } <= documented


def test_operations_are_described_and_uniquely_named(document: dict[str, Any]) -> None:
    operations = list(_operations(document))
    ids = [operation["operationId"] for _, _, operation in operations]
    assert len(ids) == len(set(ids))
    assert {"Embed", "Embed_txt_embed", "CreateEmbeddings"} <= set(ids)
    for verb, path, operation in operations:
        assert operation["description"].strip(), (verb, path)
        assert operation["tags"][0] in {"text", "image", "service", "openai"}, (verb, path)
        assert ("requestBody" in operation) == (verb != "get"), (verb, path)


def test_errors_are_google_rpc_status(document: dict[str, Any]) -> None:
    responses = document["components"]["responses"]
    for verb, path, operation in _operations(document):
        errors = {code: r for code, r in operation["responses"].items() if code != "200"}
        assert {"400", "413", "429", "500", "503", "default"} <= set(errors), (verb, path)
        for response in errors.values():
            resolved = responses[response["$ref"].rsplit("/", 1)[1]]
            schema = resolved["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Status"}
    assert _validator(document, "Status").is_valid({"code": 413, "message": "too large"})


def test_schemas_use_proto_field_names_and_json_types(schemas: dict[str, Any]) -> None:
    assert "time_ms" in schemas["EmbedResponse"]["properties"]
    assert "text_model" in schemas["HealthResponse"]["properties"]
    assert {"exif_data", "color_data"} <= set(schemas["ImageStatsResponse"]["properties"])
    assert schemas["EmbedResponse"]["properties"]["tokens"]["type"] == "integer"
    assert schemas["EmbedResponse"]["properties"]["time_ms"]["format"] == "double"
    assert schemas["EmbedListResponse"]["properties"]["embeddings"]["items"]["type"] == "array"
    assert schemas["ImageStatsResponse"]["properties"]["exif_data"]["type"] == "object"
    assert "timeMs" not in json.dumps(schemas)


def test_streaming_only_messages_are_left_out(schemas: dict[str, Any]) -> None:
    assert "EmbedBatchRequest" not in schemas
    assert "EmbedBatchResponse" not in schemas


def test_json_name_aliases_are_documented_in_requests(schemas: dict[str, Any]) -> None:
    for message, name, alias in (
        ("ImageEmbedRequest", "content", "input"),
        ("ImageStatsRequest", "content", "input"),
        ("ImageEmbedListRequest", "contents", "inputs"),
    ):
        properties = schemas[message]["properties"]
        assert properties[alias]["type"] == properties[name]["type"]
        assert f"`{name}`" in properties[alias]["description"]


def test_responses_require_what_envoy_always_prints(schemas: dict[str, Any]) -> None:
    assert schemas["EmbedResponse"]["required"] == [
        "embedding",
        "tokens",
        "time_ms",
        "truncated",
        "model",
    ]
    # Message fields are omitted when unset.
    assert schemas["ImageStatsResponse"]["required"] == ["time_ms", "exif_omitted"]
    assert "usage" not in schemas["CreateEmbeddingsResponse"]["required"]
    for name, schema in schemas.items():
        if name.endswith("Request"):
            assert "required" not in schema, name


def test_every_property_is_described(schemas: dict[str, Any]) -> None:
    properties = list(_properties(schemas, "schemas"))
    assert len(properties) > 50
    for where, prop in properties:
        assert prop.get("description", "").strip(), where


def test_request_examples_validate(document: dict[str, Any]) -> None:
    for verb, path, operation in _operations(document):
        if "requestBody" in operation:
            media = operation["requestBody"]["content"]["application/json"]
            name = media["schema"]["$ref"].rsplit("/", 1)[1]
            assert "example" in media, (verb, path)
            _validator(document, name).validate(media["example"])


def test_schemas_reject_what_the_transcoder_rejects(document: dict[str, Any]) -> None:
    """The oneof and Value shapes are constraints, not just prose."""
    image = _validator(document, "ImageEmbedRequest")
    assert image.is_valid({"data": "aGk="})
    assert not image.is_valid({"content": "https://example.com/a.png", "data": "aGk="})
    assert not image.is_valid({"content": "https://example.com/a.png", "input": "x"})
    openai = _validator(document, "CreateEmbeddingsRequest")
    assert openai.is_valid({"input": "one text"})
    assert not openai.is_valid({"input": [1, 2, 3]})
    data = _validator(document, "EmbeddingData")
    assert data.is_valid({"object": "embedding", "index": 0, "embedding": [0.5, 0.5]})
    assert data.is_valid({"object": "embedding", "index": 0, "embedding": "AAAAPw=="})
    assert not data.is_valid({"object": "embedding", "embedding": [0.5]})


def test_image_example_is_a_decodable_png(document: dict[str, Any]) -> None:
    media = document["paths"]["/img/stats"]["post"]["requestBody"]["content"]["application/json"]
    header, payload = media["example"]["content"].split(",", 1)
    assert header == "data:image/png;base64"
    with Image.open(io.BytesIO(base64.b64decode(payload))) as image:
        assert (image.format, image.size) == ("PNG", (2, 2))
