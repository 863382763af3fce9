"""`uat target check` and `uat target probe`: what a target file says, and what its adapter reads."""

from __future__ import annotations

import json

import click

from ..exitcodes import EXIT_FAILED, InfraFailure, UsageFailure


@click.group()
def target() -> None:
    """Target files: how the harness starts and judges a middleware."""


@target.command("check")
@click.argument("spec", default="reference")
def target_check(spec: str) -> None:
    """Validate a target file (or a bundled name such as `reference`) and show what it says.

    Exit 2 with the bad field named when it is wrong; 0 when it is usable.
    """
    from ..target import TargetError, load

    try:
        parsed = load(spec)
    except TargetError as exc:
        raise UsageFailure(str(exc)) from None
    start = " ".join(parsed.command) if parsed.command else f"image {parsed.image}"
    click.echo(f"{parsed.source}: ok")
    click.echo(f"  name        {parsed.name}")
    click.echo(f"  start       {start}")
    click.echo(f"  ready       {parsed.ready_url} (within {parsed.ready_timeout_s:g} s)")
    adapter = parsed.adapter
    kind = f"python {adapter.python_class}" if adapter.kind == "python" else "http"
    click.echo(f"  adapter     {kind} at {parsed.base_url}")
    for name, op in adapter.operations.items():
        read = ", ".join(f"{k}={v.expression}" for k, v in op.fields.items())
        click.echo(f"    {name:<22}{op.method} {op.path}" + (f"  -> {read}" if read else ""))
    if adapter.stream is not None:
        click.echo(f"    {'stream':<22}{adapter.stream.url}")
    click.echo(f"  webhooks    {', '.join(f'{k} {v}' for k, v in parsed.webhooks.items()) or '-'}")
    click.echo(f"  venues      {', '.join(parsed.venues) or '-'}")
    click.echo(f"  checks sql  {parsed.checks_sql or '- (db_reconcile is skipped)'}")
    click.echo(f"  env         {', '.join(sorted(parsed.env)) or '-'}")
    click.echo(f"  passthrough {', '.join(parsed.passthrough_env) or '-'}")
    click.echo(
        f"  slo         recovery {parsed.slo.recovery_s:g} s, fast reject {parsed.slo.fast_reject_ms:g} ms, "
        f"fill visible {parsed.slo.fill_visible_s:g} s, answer under database faults "
        f"{parsed.slo.answer_ms:g} ms, health degraded {parsed.slo.health_degraded_s:g} s"
    )
    database = parsed.database
    locks = ", ".join(database.locks) or "no row locks"
    click.echo(
        f"  database    {locks}; lock table {database.lock_table or '-'}"
        + ("" if parsed.postgres_dsn is None else " (its own: link faults only)")
    )
    deploy = parsed.deploy
    bad = ", ".join(f"{k}={v}" for k, v in deploy.bad_release_env.items()) or "- (bad release not declared)"
    click.echo(f"  deploy      {deploy.stop_signal}, drain {deploy.drain_s:g} s, bad release {bad}")
    metrics = parsed.metrics
    shown = f"{metrics.url} ({metrics.database_up})" if metrics else "- (metrics_truthful is skipped)"
    click.echo(f"  metrics     {shown}")
    secrets = parsed.secrets
    if secrets is None:
        click.echo("  secrets     - (read once: the credential rotation scenario is not applicable)")
    else:
        how = secrets.reload + (f" ({secrets.signal})" if secrets.reload == "signal" else "")
        rotates = ", ".join(secrets.rotatable()) or "nothing"
        click.echo(
            f"  secrets     {secrets.file}, reload {how}, settle {secrets.settle_s:g} s; rotates {rotates}"
        )
    click.echo(f"  allowlist   {', '.join(parsed.allowed_hosts) or 'loopback only'}")


@target.command("probe")
@click.argument("spec", default="reference")
@click.option("--backend", type=click.Choice(["auto", "binary", "docker", "embedded"]), default="auto")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per operation, one per line.")
def target_probe(spec: str, backend: str, as_json: bool) -> None:
    """Start the topology and the target, call each read-only operation once, and show what the
    adapter read from each answer. Exit 1 if an answer could not be read (the mapping or the
    middleware is wrong), 2 for a bad target file, 3 if the harness could not start."""
    from ..containers.errors import EngineUnavailable, ImageUnavailable
    from ..probe import probe, render
    from ..target import TargetError, load
    from ..topology import TargetNotReady, Topology

    try:
        parsed = load(spec)
    except TargetError as exc:
        raise UsageFailure(str(exc)) from None
    try:
        with Topology(parsed, backend=backend) as topo:  # type: ignore[arg-type]
            results = probe(topo, note=lambda m: click.echo(m, err=True))
            redact = topo.redact
    except TargetNotReady as exc:
        click.echo(f"the middleware never became ready: {exc}", err=True)
        raise SystemExit(EXIT_FAILED) from None
    except (OSError, EngineUnavailable, ImageUnavailable) as exc:
        raise InfraFailure(f"the topology failed to start: {exc}") from None
    if as_json:
        for result in results:
            click.echo(redact(json.dumps(result.to_json(), default=str)))
    else:
        click.echo(render(results, redact))
    if not all(r.readable for r in results):
        raise SystemExit(EXIT_FAILED)
