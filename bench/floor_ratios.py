"""Issue 12's four engine figures beside the floor under each, measured in the same minutes.

Each figure of the engine's burst (bench/lateness.py) is set beside the same burst sent by the
engine's HTTP client alone (bench/http_ceiling.py: aiohttp and the sandbox connector, no
database, no engine, no claims), which no Herald can beat on this machine, since every post is
one such call. Runs alternate floor and engine, so both see the same machine; a busy machine
moves both. Printed per round: the engine's figure, the floor, their ratio, and the target.

- CPU per post, `herald serve` on SQLite: against the client's CPU per request, one process.
- CPU per post, K `herald worker`s on PostgreSQL together: against K client processes.
- Throughput of the 10,000-post burst: against the client alone and the raw-socket ceiling
  (`--raw-client`, no HTTP library at all), the ceiling the issue's 0.9 is measured from.
- p99 start lateness of 2,000 posts due at once: against the p99 of the client's call starts.
  The engine runs here with C = 8,192 so that one connection's fair share (a quarter of the
  slots) holds all 2,000, as the floor's single client does. The engine's start is its send
  gate (`sent_at`), which comes before its call's first byte, so the p99 of platform receipt
  (the simulator's createdAt) is printed beside the client's p99 of answers read, both after L.

Usage: python bench/floor_ratios.py [--rounds 1] [--workers 1 4] [--no-postgres]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _harness import source_digest

BENCH = Path(__file__).parent
N, BURST, LATENCY_MS, C = 10_000, 2_000, 200, 4096


@dataclass(frozen=True)
class Run:
    """One benchmark run: its script, its arguments, and a label for the table."""

    label: str
    script: str
    args: tuple[str, ...]


def ceiling(label: str, requests: int, clients: int, *extra: str) -> Run:
    args = ("--requests", str(requests), "--clients", str(clients), "--concurrency", str(C))
    return Run(label, "http_ceiling.py", (*args, "--latency-ms", str(LATENCY_MS), *extra))


def burst(label: str, backend: str, groups: int, *extra: str) -> Run:
    args = ("--backend", backend, "--groups", str(groups), "--latency-ms", str(LATENCY_MS))
    return Run(label, "lateness.py", (*args, *extra))


def measure(run: Run, workdir: Path) -> dict[str, Any]:
    summary = workdir / f"{run.label}.json"
    command = [sys.executable, str(BENCH / run.script), *run.args, "--summary", str(summary)]
    print(f"$ {' '.join(['python', 'bench/' + run.script, *run.args])}", flush=True)
    finished = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if finished.returncode != 0 or not summary.exists():
        print(finished.stdout[-2000:], finished.stderr[-2000:], sep="\n")
        raise SystemExit(f"{run.label} failed (exit {finished.returncode})")
    figures: dict[str, Any] = json.loads(summary.read_text())
    # An engine burst (lateness.py) counts only if it published every post exactly once.
    if "duplicates" in figures and (
        figures["duplicates"] or figures["published"] != figures["targets"]
    ):
        raise SystemExit(f"{run.label}: not every post published exactly once: {figures}")
    return figures


def row(name: str, herald: float, floor: float, unit: str, target: str) -> str:
    return (
        f"| {name} | {herald:.3f} {unit} | {floor:.3f} {unit} | {herald / floor:.2f} | {target} |"
    )


def one_round(workdir: Path, postgres: bool, worker_counts: list[int]) -> list[str]:
    client = measure(ceiling("client-10k", N, 1), workdir)
    raw = measure(ceiling("raw-10k", N, 1, "--raw-client"), workdir)
    serve = measure(
        burst("serve-10k", "sqlite", N, "--concurrency", str(C), "--host-initial-limit", str(C)),
        workdir,
    )
    client_2k = measure(ceiling("client-2k", BURST, 1), workdir)
    serve_2k = measure(
        burst(
            "serve-2k", "sqlite", BURST, "--concurrency", str(2 * C), "--host-initial-limit", str(C)
        ),
        workdir,
    )
    serve_2k_default = measure(
        burst("serve-2k-default", "sqlite", BURST, "--concurrency", str(2 * C)), workdir
    )
    lines = [
        "| figure | Herald | floor (the client alone) | Herald / floor | target |",
        "|---|---|---|---|---|",
        row(
            "CPU per post, serve (SQLite)",
            serve["engine_cpu_ms_per_post"],
            client["client_cpu_ms_per_request"],
            "ms",
            "≤ 0.4 ms",
        ),
        row(
            "10,000-post burst, posts/s",
            serve["throughput_per_s"],
            client["throughput_per_s"],
            "/s",
            "≥ 0.9 of the raw ceiling",
        ),
        row(
            "2,000 posts, p99 start, initial limit 4,096",
            serve_2k["start_p99_s"],
            client_2k["start_p99_s"],
            "s",
            "≤ 0.5 s",
        ),
        row(
            "2,000 posts, p99 platform receipt (floor: answer read), initial limit 4,096",
            serve_2k["receipt_p99_s"],
            client_2k["finish_p99_s"],
            "s",
            "",
        ),
        row(
            "2,000 posts, p99 start, default limit",
            serve_2k_default["start_p99_s"],
            client_2k["start_p99_s"],
            "s",
            "≤ 0.5 s",
        ),
    ]
    for workers in worker_counts if postgres else []:
        client_k = measure(ceiling(f"client-10k-x{workers}", N, workers), workdir)
        pg = measure(
            burst(
                f"pg-10k-x{workers}",
                "postgres",
                N,
                "--concurrency",
                str(C),
                "--workers",
                str(workers),
                "--host-initial-limit",
                str(C // workers),
            ),
            workdir,
        )
        lines.append(
            row(
                f"CPU per post, {workers} worker(s) together (PostgreSQL; floor: {workers} "
                "client process(es))",
                pg["engine_cpu_ms_per_post"],
                client_k["client_cpu_ms_per_request"],
                "ms",
                "≤ 0.6 ms",
            )
        )
        lines.append(
            f"| (PostgreSQL server, per post) | {pg['postgres_cpu_ms_per_post']:.3f} ms | | | |"
        )
    floor_share = client["throughput_per_s"] / raw["throughput_per_s"]
    herald_share = serve["throughput_per_s"] / raw["throughput_per_s"]
    lines.append(
        f"\nraw-socket ceiling {raw['throughput_per_s']:,.0f}/s: the client alone reaches "
        f"{floor_share:.2f} of it, the engine {herald_share:.2f} (target 0.9)"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 4], help="K PostgreSQL workers, each K run"
    )
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    print(f"herald sources {source_digest()}; N {N}; burst {BURST}; L {LATENCY_MS} ms; C {C}")
    with tempfile.TemporaryDirectory(prefix="herald-floors-") as directory:
        for number in range(1, args.rounds + 1):
            lines = one_round(Path(directory), not args.no_postgres, list(args.workers))
            print(f"\nround {number}\n" + "\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
