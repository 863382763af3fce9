"""Which checks can judge an operation at all, read from the spec before anything is sent.

Schemathesis records a check that found nothing to look at (ignored_auth on an operation with no
security, a stateful check on a spec with no links) as a success. Here such a check gets the reason
it cannot run, so it is reported NOT RUN and never counts as passed. Pure functions of the document.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..spec.document import Operation, mapping, media_schemas, operations, resolve, secured
from ..spec.model import Document

# Methods that read a resource: what a use-after-free or availability check reads with.
READING = frozenset({"get", "head"})


def label(op: Operation) -> str:
    """How Schemathesis names an operation: `GET /v1/orders/{client_order_id}`."""
    return f"{op.method.upper()} {op.path}"


def http_operations(doc: Document) -> dict[str, Operation]:
    """The operations under `paths` (webhooks the API sends out are not called), by label."""
    return {label(op): op for op in operations(doc) if not op.outgoing}


def not_applicable(doc: Document, op: Operation) -> dict[str, str]:
    """check -> why it cannot judge `op`; a check absent from the result can."""
    reasons: dict[str, str] = {}
    responses = op.responses(doc)
    codes = {r.code for r in responses}
    if "default" in codes:
        reasons["status_code_conformance"] = "the operation documents a `default` answer: any status conforms"
    elif not codes:
        reasons["status_code_conformance"] = "the operation documents no answers"
    if not any(mapping(r.node.get("content")) for r in responses):
        reasons["content_type_conformance"] = "no answer of the operation documents a media type"
    if not any(True for r in responses for _ in media_schemas(doc, r.node, r.at)):
        reasons["response_schema_conformance"] = "no answer of the operation has a schema to hold it to"
    params = op.parameters(doc)
    if not params and not _has_body(doc, op):
        reasons["negative_data_rejection"] = (
            "the operation takes no parameters and no body: nothing to make invalid"
        )
    if not any(p.where == "header" and p.required for p in params):
        reasons["missing_required_header"] = "the operation requires no header"
    if not secured(doc, op):
        reasons["ignored_auth"] = "the spec declares no security requirement for this operation"
    reasons.update(_stateful(doc, op))
    return reasons


def _stateful(doc: Document, op: Operation) -> dict[str, str]:
    """use_after_free reads after a DELETE in the same linked sequence; ensure_resource_availability
    reads what a POST just created, through a link from it. Both judge reads reached by links only
    (link inference is off: the spec's own links are what the agency promised)."""
    links = list(_links(doc))
    here = [source for source, target in links if target == label(op)]
    if not links:
        why = "the spec declares no OpenAPI links: no stateful sequence to follow"
        return {"use_after_free": why, "ensure_resource_availability": why}
    if not here:
        why = "no OpenAPI link leads to this operation"
        return {"use_after_free": why, "ensure_resource_availability": why}
    if op.method not in READING:
        why = f"{op.method.upper()} is not a read: only a read can find a resource gone or missing"
        return {"use_after_free": why, "ensure_resource_availability": why}
    reasons = {}
    if not any(target.startswith("DELETE ") for _, target in links):
        reasons["use_after_free"] = "no OpenAPI link leads to a DELETE: no sequence deletes a resource"
    if not any(source.startswith("POST ") for source in here):
        reasons["ensure_resource_availability"] = "no OpenAPI link from a POST (a creation) leads here"
    return reasons


def _has_body(doc: Document, op: Operation) -> bool:
    body, _ = resolve(doc, op.node.get("requestBody"), op.at + "/requestBody")
    return bool(mapping(mapping(body).get("content")))


def _links(doc: Document) -> Iterator[tuple[str, str]]:
    """(from, to) for every response link between two operations (by operationId or operationRef)."""
    ops = http_operations(doc)
    by_id = {op.node.get("operationId"): name for name, op in ops.items() if op.node.get("operationId")}
    by_ref = {op.at: name for name, op in ops.items()}
    for source, op in ops.items():
        for response in op.responses(doc):
            for raw in mapping(response.node.get("links")).values():
                link, _ = resolve(doc, raw, response.at + "/links")
                link = mapping(link)
                target = by_id.get(link.get("operationId")) or by_ref.get(str(link.get("operationRef", "")))
                if target is not None:
                    yield source, target
