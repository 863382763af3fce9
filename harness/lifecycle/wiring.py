"""Connect the lifecycle's mocks to the target, as its operators would: its Zaps loaded into the bus,
its Connect listener registered at DocuSign. Done when the topology starts and after every reset
(a reset drops DocuSign's listeners; the bus keeps its Zaps, and loading them again is harmless).

A Zaps file the bus refuses is the target file's fault, so it is a TargetError naming the field
(`lifecycle.zaps: zaps[0].steps[1].url: ...`), never an infrastructure error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from ..targetfields import TargetError
from ..targetlifecycle import LifecycleSpec

TIMEOUT_S = 10.0


def wire(
    spec: LifecycleSpec | None,
    controls: dict[str, str],
    render: Callable[[str, str], str],
    docusign_listener: str | None,
    source: str,
) -> None:
    """Load the Zaps (with their `set` values rendered by `render(text, where)`) and register the
    target's DocuSign listener, for whichever of the two the target declares and the stack runs."""
    with httpx.Client(timeout=TIMEOUT_S, trust_env=False) as http:
        if spec is not None and "zapier" in controls:
            values = {key: render(text, f"lifecycle.set.{key}") for key, text in spec.values.items()}
            answer = http.put(
                f"{controls['zapier']}/zapier/zaps",
                json={"config": spec.zaps.read_text(encoding="utf-8"), "set": values},
            )
            if answer.status_code == 400:
                raise TargetError(source, "lifecycle.zaps", _refusal(answer))
            answer.raise_for_status()
        if docusign_listener is not None and "docusign" in controls:
            base = controls["docusign"]
            http.delete(f"{base}/docusign/listeners").raise_for_status()
            answer = http.post(f"{base}/docusign/listeners", json={"url": docusign_listener})
            if answer.status_code == 400:
                raise TargetError(source, "webhooks.docusign", _refusal(answer))
            answer.raise_for_status()


def _refusal(answer: httpx.Response) -> str:
    try:
        body: Any = answer.json()
    except ValueError:
        return answer.text[:300]
    if isinstance(body, dict) and "error" in body:
        field = body.get("field")
        return f"{field}: {body['error']}" if field else str(body["error"])
    return str(body)[:300]
