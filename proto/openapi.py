"""Writes the OpenAPI 3.1 document of the REST API from the descriptor set Envoy loads.

Paths, operations and schemas come from the descriptor set alone (http rules, messages and their
comments), so the document describes exactly what the transcoder serves. The JSON shapes follow
the transcoder's settings in `server/nomic_serve/gateway/envoy.yaml.in`:

- proto field names (`preserve_proto_field_names`). Requests are parsed by protobuf's JSON
  parser, which also accepts a field's `json_name`: an explicit one is documented as an alias,
  in request schemas only.
- every primitive and repeated field is printed (`always_print_primitive_fields`), so response
  schemas require them; message fields, proto3 `optional` fields and oneof members appear only
  when set. Request schemas require nothing: proto3 has no required fields.
- errors are `google.rpc.Status` as JSON (`convert_grpc_status`), and so are Envoy's own replies.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor_pb2

VERSION_FILE = Path(__file__).resolve().parents[1] / "server" / "nomic_serve" / "__init__.py"

_F = descriptor_pb2.FieldDescriptorProto
_SCHEMAS = "#/components/schemas/"
_STATUS = "google.rpc.Status"
_VERBS = ("get", "post", "put", "delete", "patch")
_VERSION = re.compile(r'^__version__ = "([^"]+)"', re.MULTILINE)
_XREF = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")  # protodoc cross references: [text][target]

_INT64 = {"type": "string", "format": "int64"}
_UINT32 = {"type": "integer", "minimum": 0, "maximum": 2**32 - 1}
_INT32 = {"type": "integer", "format": "int32"}
_SCALARS: dict[int, dict[str, Any]] = {
    _F.TYPE_DOUBLE: {"type": "number", "format": "double"},
    _F.TYPE_FLOAT: {"type": "number", "format": "float"},
    _F.TYPE_INT64: _INT64,
    _F.TYPE_SINT64: _INT64,
    _F.TYPE_SFIXED64: _INT64,
    _F.TYPE_UINT64: _INT64,
    _F.TYPE_FIXED64: _INT64,
    _F.TYPE_INT32: _INT32,
    _F.TYPE_SINT32: _INT32,
    _F.TYPE_SFIXED32: _INT32,
    _F.TYPE_UINT32: _UINT32,
    _F.TYPE_FIXED32: _UINT32,
    _F.TYPE_BOOL: {"type": "boolean"},
    _F.TYPE_STRING: {"type": "string"},
    _F.TYPE_BYTES: {"type": "string", "contentEncoding": "base64"},
}

# Well-known types have their own JSON forms, so they are written inline, not as message schemas.
# ListValue carries embeddings only here: an array of numbers.
_WELL_KNOWN: dict[str, dict[str, Any]] = {
    "google.protobuf.ListValue": {"type": "array", "items": {"type": "number"}},
    "google.protobuf.Struct": {"type": "object", "additionalProperties": True},
    "google.protobuf.Value": {},
    "google.protobuf.Any": {
        "type": "object",
        "properties": {
            "@type": {
                "type": "string",
                "description": "Type URL of the packed message, whose fields sit beside it.",
            }
        },
        "required": ["@type"],
        "additionalProperties": True,
    },
}

# google.protobuf.Value is any JSON value; these fields' comments narrow it down.
_VALUE_SHAPES: dict[str, dict[str, Any]] = {
    "nomic.serve.v1.CreateEmbeddingsRequest.input": {
        "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
    },
    "nomic.serve.v1.EmbeddingData.embedding": {
        "oneOf": [
            {"type": "array", "items": {"type": "number"}},
            {"type": "string", "contentEncoding": "base64"},
        ]
    },
}

# Envoy's own replies (413, unknown routes, timeouts, unparsable bodies) have no `details`.
_STATUS_OVERRIDES = {
    "description": "An error: `google.rpc.Status` as JSON, `code` being the gRPC status code "
    "(e.g. 3, INVALID_ARGUMENT). Envoy's own replies (413, unknown routes, timeouts, bodies that "
    "do not parse) carry `code` and `message` only.",
    "required": ["code", "message"],
}

# HTTP status of each error the transcoder maps gRPC codes to: component name, meaning.
_ERRORS = {
    "400": ("InvalidArgument", "INVALID_ARGUMENT: a missing, malformed or out-of-range value."),
    "403": ("PermissionDenied", "PERMISSION_DENIED: e.g. an image URL on a refused network."),
    "413": ("PayloadTooLarge", "The request body is larger than the gateway accepts."),
    "429": ("ResourceExhausted", "RESOURCE_EXHAUSTED: too much work is pending; retry later."),
    "500": ("Internal", "INTERNAL or UNKNOWN: a server-side failure."),
    "503": ("Unavailable", "UNAVAILABLE: the model is not loaded or the server is unreachable."),
    "default": ("Error", "Any other error, e.g. 404, 501 UNIMPLEMENTED, 504 DEADLINE_EXCEEDED."),
}

_PNG = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR42mP4z8DA8J+"
    "BkYHh////DAAe9gT9CzF8CQAAAABJRU5ErkJggg=="
)
# Request bodies Swagger UI's "Try it out" starts from, by request message.
_EXAMPLES: dict[str, dict[str, Any]] = {
    "EmbedRequest": {"input": "Hello world", "dim": 128},
    "EmbedQueryRequest": {"input": "What is nomic-serve?"},
    "EmbedListRequest": {"inputs": ["Hello world", "Goodbye world"], "dim": 8},
    "ImageEmbedRequest": {"input": _PNG},
    "ImageEmbedListRequest": {"contents": [_PNG]},
    "ImageStatsRequest": {"content": _PNG, "averaging_method": "geometric"},
    "CreateEmbeddingsRequest": {"input": ["Hello world"], "model": "nomic-embed-text-v1.5"},
    "SimilarityRequest": {
        "query": {"text": "a small red square"},
        "candidates": [{"text": "a red box"}, {"text": "a blue sky"}, {"image": _PNG}],
    },
}

_P = TypeVar("_P", descriptor_pb2.DescriptorProto, descriptor_pb2.ServiceDescriptorProto)


@dataclass(frozen=True)
class _Element(Generic[_P]):
    """A message or service with its file's comments, which the document's text comes from."""

    name: str
    proto: _P
    comments: dict[tuple[int, ...], str]
    path: tuple[int, ...]

    def comment(self, *sub: int) -> str:
        """The leading comment of this element, or of its part at `sub` (e.g. field 2, k)."""
        return _text(self.comments.get(self.path + sub, ""))


def write_openapi(descriptor: Path, out: Path) -> None:
    """Writes the document; stable order and formatting so `generate.py --check` can compare."""
    files = descriptor_pb2.FileDescriptorSet.FromString(descriptor.read_bytes())
    document = _document(files)
    out.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _document(files: descriptor_pb2.FileDescriptorSet) -> dict[str, Any]:
    messages, services = _index(files)
    service = _http_service(services)
    paths, requests, responses = _paths(service, messages)
    return {
        "openapi": "3.1.0",
        "info": {"title": "nomic-serve", "version": _version(), "description": service.comment()},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": _schemas(requests, [*responses, _STATUS], messages),
            "responses": {
                name: _json_response(text, _simple(_STATUS)) for name, text in _ERRORS.values()
            },
        },
    }


def _version() -> str:
    """Read as text: importing the server package would pull in its runtime dependencies."""
    match = _VERSION.search(VERSION_FILE.read_text())
    if match is None:
        raise ValueError(f"no __version__ in {VERSION_FILE}")
    return match.group(1)


def _text(comment: str) -> str:
    """A proto comment as prose: lines of a paragraph joined, paragraphs kept apart."""
    paragraphs = re.split(r"\n\s*\n", comment.strip())
    return "\n\n".join(" ".join(_XREF.sub(r"`\1`", p).split()) for p in paragraphs)


def _index(
    files: descriptor_pb2.FileDescriptorSet,
) -> tuple[dict[str, _Element[Any]], list[_Element[Any]]]:
    """Messages by full name (no leading dot) and all services, with their comments."""
    messages: dict[str, _Element[Any]] = {}
    services: list[_Element[Any]] = []
    for file in files.file:
        comments = {tuple(loc.path): loc.leading_comments for loc in file.source_code_info.location}
        prefix = f"{file.package}." if file.package else ""
        for i, message in enumerate(file.message_type):
            _add_messages(messages, prefix, message, comments, (4, i))
        for i, service in enumerate(file.service):
            services.append(_Element(prefix + service.name, service, comments, (6, i)))
    return messages, services


def _add_messages(
    index: dict[str, _Element[Any]],
    prefix: str,
    message: descriptor_pb2.DescriptorProto,
    comments: dict[tuple[int, ...], str],
    path: tuple[int, ...],
) -> None:
    name = prefix + message.name
    index[name] = _Element(name, message, comments, path)
    for i, nested in enumerate(message.nested_type):
        _add_messages(index, name + ".", nested, comments, (*path, 3, i))


def _bindings(method: descriptor_pb2.MethodDescriptorProto) -> list[http_pb2.HttpRule]:
    if not method.options.HasExtension(annotations_pb2.http):
        return []
    rule = method.options.Extensions[annotations_pb2.http]
    return [rule, *rule.additional_bindings]


def _http_service(services: list[_Element[Any]]) -> _Element[Any]:
    """The one service with http rules: its comment is the document's description."""
    annotated = [s for s in services if any(_bindings(m) for m in s.proto.method)]
    if len(annotated) != 1:
        raise ValueError(f"expected one service with http rules, found {len(annotated)}")
    return annotated[0]


def _paths(
    service: _Element[Any], messages: dict[str, _Element[Any]]
) -> tuple[dict[str, Any], list[str], list[str]]:
    """Path items of every binding, and the request and response messages they use."""
    paths: dict[str, dict[str, Any]] = {}
    requests: list[str] = []
    responses: list[str] = []
    for j, method in enumerate(service.proto.method):
        request = messages[method.input_type.lstrip(".")]
        response = messages[method.output_type.lstrip(".")]
        for k, rule in enumerate(_bindings(method)):
            verb = rule.WhichOneof("pattern")
            path = getattr(rule, verb)
            operation_id = method.name if k == 0 else f"{method.name}_{_slug(path)}"
            _check_rule(operation_id, verb, path, rule.body, request)
            item = paths.setdefault(path, {})
            if verb in item:
                raise ValueError(f"{verb.upper()} {path} is bound twice")
            item[verb] = _operation(operation_id, service.comment(2, j), verb, path)
            if rule.body:
                item[verb]["requestBody"] = _request_body(_simple(request.name))
                requests.append(request.name)
            elif request.proto.field:
                item[verb]["parameters"] = _query_parameters(request, messages)
            item[verb]["responses"] = _responses(response)
            responses.append(response.name)
    return paths, requests, responses


def _slug(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_")


def _check_rule(operation_id: str, verb: str, path: str, body: str, request: _Element[Any]) -> None:
    """Path variables are not documented, and a rule without body can only carry scalar
    fields (query parameters): refuse rules that need more."""
    supported = verb in _VERBS and "{" not in path
    scalars = all(field.type in _SCALARS for field in request.proto.field)
    if not (supported and (body == "*" or (not body and scalars))):
        raise ValueError(
            f'{operation_id}: only `body: "*"` rules, or rules without body for messages '
            "of scalar fields (query parameters), on paths without variables can be documented"
        )


def _query_parameters(
    request: _Element[Any], messages: dict[str, _Element[Any]]
) -> list[dict[str, Any]]:
    """The request's fields as the transcoder reads them from the query string (a repeated
    field as the parameter repeated: `?dims=64&dims=128`)."""
    return [
        {
            "name": field.name,
            "in": "query",
            "description": _field_description(request, k),
            "schema": _field_schema(field, f"{request.name}.{field.name}", messages),
            **({"style": "form", "explode": True} if field.label == _F.LABEL_REPEATED else {}),
        }
        for k, field in enumerate(request.proto.field)
    ]


def _operation(operation_id: str, description: str, verb: str, path: str) -> dict[str, Any]:
    return {
        "operationId": operation_id,
        "summary": description.split("\n\n")[0].split(". ")[0].rstrip("."),
        "description": description,
        "tags": [_tag(verb, path)],
    }


def _tag(verb: str, path: str) -> str:
    """Groups operations in Swagger UI by the API they belong to."""
    if path.startswith("/v1/"):
        return "openai"
    if path.startswith("/img/"):
        return "image"
    return "service" if verb == "get" else "text"


def _request_body(name: str) -> dict[str, Any]:
    media: dict[str, Any] = {"schema": {"$ref": _SCHEMAS + name}}
    if name in _EXAMPLES:
        media["example"] = _EXAMPLES[name]
    return {"required": True, "content": {"application/json": media}}


def _responses(response: _Element[Any]) -> dict[str, Any]:
    errors = {
        code: {"$ref": f"#/components/responses/{name}"} for code, (name, _) in _ERRORS.items()
    }
    return {"200": _json_response(response.comment(), _simple(response.name)), **errors}


def _json_response(description: str, schema: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": _SCHEMAS + schema}}},
    }


def _simple(full_name: str) -> str:
    return full_name.rsplit(".", 1)[-1]


def _schemas(
    requests: list[str], responses: list[str], messages: dict[str, _Element[Any]]
) -> dict[str, Any]:
    """One schema per message the operations use, by simple name, alphabetically."""
    request_side = _reachable(requests, messages)
    response_side = _reachable(responses, messages)
    if both := request_side & response_side:
        raise ValueError(f"messages used in requests and responses alike: {sorted(both)}")
    names = {name: _simple(name) for name in request_side | response_side}
    if len(set(names.values())) != len(names):
        raise ValueError(f"message names are not unique: {sorted(names)}")
    schemas = {}
    for name in sorted(names, key=names.__getitem__):
        schemas[names[name]] = _message_schema(messages[name], name in request_side, messages)
        if name == _STATUS:
            schemas[names[name]].update(_STATUS_OVERRIDES)
    return schemas


def _reachable(roots: list[str], messages: dict[str, _Element[Any]]) -> set[str]:
    """The roots and every message their fields lead to, well-known types excepted."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += [
                field.type_name.lstrip(".")
                for field in messages[name].proto.field
                if field.type == _F.TYPE_MESSAGE
                and not field.type_name.startswith(".google.protobuf.")
            ]
    return seen


def _message_schema(
    message: _Element[Any], is_request: bool, messages: dict[str, _Element[Any]]
) -> dict[str, Any]:
    fields = message.proto.field
    properties: dict[str, Any] = {}
    for k, field in enumerate(fields):
        schema = _field_schema(field, f"{message.name}.{field.name}", messages)
        name, *aliases = _spellings(field, is_request)
        properties[name] = {**schema, "description": _field_description(message, k)}
        for alias in aliases:
            properties[alias] = {**schema, "description": f"Alias of `{name}`; set only one."}
    schema = {"type": "object", "description": _describe(message), "properties": properties}
    if not is_request and (required := [f.name for f in fields if _always_printed(f)]):
        schema["required"] = required
    if exclusive := _exclusive_pairs(message, is_request):
        schema["not"] = {"anyOf": [{"required": list(pair)} for pair in exclusive]}
    return schema


def _field_description(message: _Element[Any], k: int) -> str:
    """The field's comment; bytes comments speak of gRPC, where bytes are not base64 as in JSON."""
    description = message.comment(2, k)
    if message.proto.field[k].type == _F.TYPE_BYTES:
        description += " In JSON, base64-encoded."
    return description


def _spellings(field: descriptor_pb2.FieldDescriptorProto, is_request: bool) -> list[str]:
    """The field's JSON names: its proto name, then its explicit `json_name` in requests.

    The default `json_name` (lowerCamelCase) is accepted too but left out, so that the schemas
    show one spelling of each field, the one responses use.
    """
    if is_request and field.json_name != _lower_camel(field.name):
        return [field.name, field.json_name]
    return [field.name]


def _lower_camel(name: str) -> str:
    """protoc's default json_name."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _always_printed(field: descriptor_pb2.FieldDescriptorProto) -> bool:
    """Whether `always_print_primitive_fields` prints the field even when unset."""
    if field.label == _F.LABEL_REPEATED:
        return True
    return field.type != _F.TYPE_MESSAGE and not field.HasField("oneof_index")


def _oneofs(message: _Element[Any]) -> dict[int, list[descriptor_pb2.FieldDescriptorProto]]:
    """Members of each real oneof by index; proto3 `optional` makes synthetic ones."""
    members: dict[int, list[descriptor_pb2.FieldDescriptorProto]] = {}
    for field in message.proto.field:
        if field.HasField("oneof_index") and not field.proto3_optional:
            members.setdefault(field.oneof_index, []).append(field)
    return members


def _describe(message: _Element[Any]) -> str:
    """The message comment, plus each oneof's, which has no property of its own to sit on."""
    notes = [
        f"Oneof `{message.proto.oneof_decl[i].name}` "
        f"({', '.join(f'`{f.name}`' for f in fields)}): {message.comment(8, i)}"
        for i, fields in _oneofs(message).items()
    ]
    return "\n\n".join([message.comment(), *notes])


def _exclusive_pairs(message: _Element[Any], is_request: bool) -> list[tuple[str, str]]:
    """Pairs of properties that cannot both be set: spellings of members of one oneof."""
    pairs: list[tuple[str, str]] = []
    for fields in _oneofs(message).values():
        spellings = [name for field in fields for name in _spellings(field, is_request)]
        pairs += itertools.combinations(spellings, 2)
    return pairs


def _field_schema(
    field: descriptor_pb2.FieldDescriptorProto, full_name: str, messages: dict[str, _Element[Any]]
) -> dict[str, Any]:
    schema = _type_schema(field, full_name, messages)
    return {"type": "array", "items": schema} if field.label == _F.LABEL_REPEATED else schema


def _type_schema(
    field: descriptor_pb2.FieldDescriptorProto, full_name: str, messages: dict[str, _Element[Any]]
) -> dict[str, Any]:
    """The JSON form of one value of the field, as the transcoder prints it."""
    if field.type in _SCALARS:
        return _SCALARS[field.type]
    type_name = field.type_name.lstrip(".")
    if type_name == "google.protobuf.Value":
        return _VALUE_SHAPES.get(full_name, _WELL_KNOWN[type_name])
    if type_name in _WELL_KNOWN:
        return _WELL_KNOWN[type_name]
    unsupported = (
        field.type != _F.TYPE_MESSAGE
        or type_name.startswith("google.protobuf.")
        or messages[type_name].proto.options.map_entry
    )
    if unsupported:
        raise ValueError(f"{full_name}: enums, maps and {type_name or 'its type'} are not mapped")
    return {"$ref": _SCHEMAS + _simple(type_name)}
