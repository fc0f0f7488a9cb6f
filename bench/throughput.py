"""Throughput of the scoring core, the sentence-transformers baseline and the HTTP service.

Not a test: a script that prints a markdown table of absolute numbers and ratios.

    .venv/bin/python bench/throughput.py                 # shipped model, 2,000 pairs
    .venv/bin/python bench/throughput.py --quick --model /path/to/tiny-model
    .venv/bin/python bench/throughput.py --backends torch,onnx:compact,onnx:int8-smooth \\
        --http onnx:int8-smooth
    .venv/bin/python bench/throughput.py --backends torch,onnx,openvino:f32,openvino --http openvino
    .venv/bin/python bench/throughput.py --backends torch,openvino --http openvino --repeat 3

Every measurement runs in its own process (so peak RSS is its own) on the same model and the same pairs:
``NLIScorer.probabilities`` on each backend of ``--backends`` (``torch``, ``onnx``: the model folder's
own export on ONNX Runtime, ``onnx:SCHEME``: that export scheme in a copy of the folder,
bench/onnx_variants.py; ``openvino``: the folder's own export on OpenVINO, ``openvino:f32`` /
``openvino:bf16``: at that compute precision) and ``CrossEncoder.predict``, each at every batch size of
``--batches``; then the service under uvicorn (on the ``--http`` backend) with 1, 16 and 64 concurrent
clients sending one pair per request. Floors from issue 9: core >= 3x CrossEncoder at batch 32; HTTP
with 64 clients >= 0.8x the best in-process rate of the backend it serves. Beside each HTTP row: how
full the service's micro-batches were, the share of the run its model computed and at what rate (its
``/metrics`` counters), and the CPU cores the service and this load generator used, both on the same
machine. ``--repeat N`` runs all of it N times in interleaved rounds and prints each figure as its
median with its range (bench/rounds.py), each ratio taken within a round first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.machine import describe_cpu  # noqa: E402
from bench.onnx_variants import DEFAULT_WORK, scheme_folder  # noqa: E402
from bench.rounds import Spread, combine, spread_of  # noqa: E402
from contradict.settings import default_model  # noqa: E402

EXAMPLES_DIR = REPO.parent / "shared" / "examples"
VITAMINC_TASK = "vitaminc_fact_verification"
CORE_FLOOR = 3.0
HTTP_FLOOR = 0.8
CLIENTS = (1, 16, 64)
BATCHES = (1, 8, 32, 64)


# -- the pairs ---------------------------------------------------------------------------------------


def vitaminc_pairs(count: int) -> list[tuple[str, str]] | None:
    from training.fact_verification import cache_dir, iter_task_examples, parse_examples

    task = cache_dir() / "bigbench" / VITAMINC_TASK / "task.json"
    if not task.is_file():
        return None
    rows = parse_examples(iter_task_examples(task))["test"]
    return [(row["premise"], row["hypothesis"]) for row in rows[:count]]


def example_pairs(count: int) -> list[tuple[str, str]]:
    """Fallback: real sentences from the shared example documents, paired up at random."""
    text = " ".join(path.read_text(encoding="utf-8") for path in sorted(EXAMPLES_DIR.glob("*.txt")))
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) >= 4]
    if len(sentences) < 2:
        raise SystemExit(f"no VitaminC cache and no usable sentences in {EXAMPLES_DIR}")
    rng = random.Random(0)
    return [tuple(rng.sample(sentences, 2)) for _ in range(count)]


def build_pairs(count: int) -> tuple[list[tuple[str, str]], str]:
    pairs = vitaminc_pairs(count)
    if pairs and len(pairs) >= count:
        return pairs, "VitaminC test split"
    return example_pairs(count), f"sentences from {EXAMPLES_DIR}"


# -- measurements, each in its own process -----------------------------------------------------------


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def canonical_argmax(logits, id2label) -> list[str]:
    from contradict.labels import canonical_label

    return [canonical_label(id2label[int(i)]) for i in logits.argmax(axis=1)]


def timed(fn, pairs, batch: int) -> float:
    """Pairs per second of ``fn(pairs, batch)`` after an untimed warm-up."""
    fn(pairs[: min(len(pairs), 32)], batch)  # warm-up, not timed
    started = time.perf_counter()
    fn(pairs, batch)
    return len(pairs) / (time.perf_counter() - started)


def worker_core(model: str, pairs, threads: int, backend: str, batches: list[int]) -> dict:
    from contradict.labels import LABELS
    from contradict.scorer import NLIScorer

    backend, precision = backend_and_precision(backend)
    scorer = NLIScorer(model, num_threads=threads, backend=backend, precision=precision)
    rates = {b: timed(lambda p, b: scorer.probabilities(p, batch_size=b), pairs, b) for b in batches}
    labels = [LABELS[i] for i in scorer.probabilities(pairs, batch_size=32).argmax(axis=1)]
    return {"rates": rates, "labels": labels, "rss_mb": peak_rss_mb()}


def worker_crossencoder(model: str, pairs, threads: int, backend: str, batches: list[int]) -> dict:
    import torch
    from sentence_transformers import CrossEncoder

    torch.set_num_threads(threads)
    # float32 as the core uses: transformers would otherwise keep fp16-stored weights in fp16 on CPU.
    encoder = CrossEncoder(model, device="cpu", model_kwargs={"dtype": torch.float32})

    def predict(p, b):
        return encoder.predict(p, batch_size=b, show_progress_bar=False)

    rates = {b: timed(predict, pairs, b) for b in batches}
    logits = predict(pairs, 32)
    if logits.ndim != 2 or logits.shape[1] != 3:
        raise SystemExit(f"CrossEncoder returned shape {logits.shape}, expected (n, 3)")
    labels = canonical_argmax(logits, encoder.config.id2label)
    return {"rates": rates, "labels": labels, "rss_mb": peak_rss_mb()}


WORKERS = {"core": worker_core, "crossencoder": worker_crossencoder}


def run_worker(kind: str, model: str, pairs_file: Path, args, backend: str = "auto") -> dict:
    command = [sys.executable, __file__, "--worker", kind, "--model", model, "--pairs-file", str(pairs_file)]
    command += ["--threads", str(args.threads), "--batches", args.batches, "--worker-backend", backend]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    if done.returncode != 0:
        raise SystemExit(f"{kind} worker failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["rates"] = {int(k): v for k, v in result["rates"].items()}
    return result


# -- the HTTP service --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(model: str, threads: int, backend: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = dict(os.environ)
    backend, precision = backend_and_precision(backend)
    env.update(
        CONTRADICT_MODEL=model,
        CONTRADICT_BACKEND=backend,
        CONTRADICT_PRECISION=precision,
        CONTRADICT_PORT=str(port),
        CONTRADICT_HOST="127.0.0.1",
        CONTRADICT_NUM_THREADS=str(threads),
        CONTRADICT_LOG_LEVEL="warning",
    )
    env.pop("CONTRADICT_API_KEY", None)
    code = "from contradict.settings import Settings; from service.server import run; run(Settings())"
    process = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=env)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the service exited with {process.returncode}")
        try:
            status, _ = asyncio.run(one_request(port, "GET", "/readyz"))
            if status == 200:
                return process, port
        except OSError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit("the service did not become ready in 300 s")


async def one_request(port: int, method: str, path: str) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"{method} {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        return await read_response(reader)
    finally:
        writer.close()


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    length = int({k.lower(): v for k, v in headers.items()}.get("content-length", 0))
    return int(lines[0].split()[1]), await reader.readexactly(length)


async def client(port: int, work: list[bytes], latencies: list[float]) -> None:
    """A keep-alive HTTP/1.1 client on raw asyncio streams: one pair per request, in turn.

    A hand-rolled client costs far less CPU than a full HTTP library, so the machine's cores go to
    the service being measured, not to the load generator.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while work:
            payload = work.pop()
            started = time.perf_counter()
            writer.write(
                b"POST /v1/contradictions HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                + b"Content-Length: %d\r\n\r\n" % len(payload)
                + payload
            )
            status, body = await read_response(reader)
            if status != 200:
                raise RuntimeError(f"HTTP {status}: {body[:300]!r}")
            latencies.append(time.perf_counter() - started)
    finally:
        writer.close()


async def load(port: int, pairs, clients: int) -> tuple[float, list[float]]:
    work = [json.dumps({"pairs": [{"premise": p, "hypothesis": h}]}).encode() for p, h in reversed(pairs)]
    latencies: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(*(client(port, work, latencies) for _ in range(clients)))
    return len(pairs) / (time.perf_counter() - started), latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def server_peak_rss_mb(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else None


def batch_totals(port: int) -> dict[str, float]:
    """The service's own micro-batch counters (``/metrics``): batches, pairs, model seconds."""
    _, body = asyncio.run(one_request(port, "GET", "/metrics"))
    text = body.decode()
    totals = {}
    for key, pattern in (
        ("batches", r"^contradict_batch_pairs_count (\S+)$"),
        ("pairs", r"^contradict_batch_pairs_sum (\S+)$"),
        ("model_s", r"^contradict_batch_duration_seconds_sum (\S+)$"),
    ):
        match = re.search(pattern, text, re.MULTILINE)
        totals[key] = float(match.group(1)) if match else float("nan")
    return totals


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used so far (``/proc/PID/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure_http(model: str, pairs, threads: int, backend: str) -> tuple[dict[int, dict], float | None]:
    """Rate and latency per client count, and where the run's time went inside the service: how full
    its micro-batches were, and the share of the run the model was computing (``model_busy``) at what
    rate (``model_rate``: pairs per second of model time, to set beside the in-process core's)."""
    process, port = start_server(model, threads, backend)
    try:
        asyncio.run(load(port, pairs[:32], 8))  # warm-up
        results = {}
        for clients in CLIENTS:
            before = batch_totals(port)
            server_cpu, client_cpu = process_cpu_s(process.pid), time.process_time()
            started = time.perf_counter()
            rate, latencies = asyncio.run(load(port, pairs, clients))
            wall = time.perf_counter() - started
            server_cpu, client_cpu = process_cpu_s(process.pid) - server_cpu, time.process_time() - client_cpu
            after = batch_totals(port)
            batches, model_s = after["batches"] - before["batches"], after["model_s"] - before["model_s"]
            results[clients] = {
                "rate": rate,
                "p50_ms": 1000 * percentile(latencies, 0.50),
                "p99_ms": 1000 * percentile(latencies, 0.99),
                "mean_batch_pairs": (after["pairs"] - before["pairs"]) / batches if batches else None,
                "model_busy": model_s / wall,
                "model_rate": len(pairs) / model_s if model_s else None,
                "server_cores": server_cpu / wall,  # CPU cores the service used on average
                "client_cores": client_cpu / wall,  # ... and this load generator
            }
            print(f"  http {clients:>2} clients: {rate:8.1f} pairs/s", file=sys.stderr)
        return results, server_peak_rss_mb(process.pid)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


# -- report ------------------------------------------------------------------------------------------


def fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def report(args, source: str, rounds: list[dict]) -> None:
    """Print the table (rows per backend x batch size, then the baseline, then HTTP) and the floors.

    With several ``rounds`` every figure is its median over them and a rate or ratio shows its range
    beside it; each ratio is taken within a round (both sides measured minutes apart) before the median.
    """
    median = combine(rounds)
    cores, baseline, http, http_rss = median["cores"], median["baseline"], median["http"], median["http_rss"]

    def rate_cell(figure) -> str:
        return spread_of(rounds, figure).format()

    def ratio_cell(figure, what: str) -> str:
        spread = spread_of(rounds, figure)
        return f"{spread.format(2, 'x')} {what}" if spread else "-"

    def served(round_: dict) -> float | None:
        core = round_["cores"].get(args.http)
        return max(core["rates"].values()) if core else None

    def http_ratio(round_: dict, clients: int) -> float | None:
        """This round's HTTP rate at ``clients`` over its core's best rate on the served backend."""
        best = served(round_)
        return round_["http"][clients]["rate"] / best if best and clients in round_["http"] else None

    rows = []
    for entry, core in cores.items():
        for batch in core["rates"]:
            rows.append(
                (
                    f"core `{entry}`, batch {batch}",
                    rate_cell(lambda r, e=entry, b=batch: r["cores"][e]["rates"][b]),
                    None,
                    None,
                    core["rss_mb"],
                    ratio_cell(
                        lambda r, e=entry, b=batch: r["cores"][e]["rates"][b] / r["baseline"]["rates"][b],
                        f"CrossEncoder batch {batch}",
                    ),
                )
            )
    for batch in baseline["rates"]:
        rows.append(
            (
                f"`CrossEncoder.predict`, batch {batch}",
                rate_cell(lambda r, b=batch: r["baseline"]["rates"][b]),
                None,
                None,
                baseline["rss_mb"],
                "baseline",
            )
        )
    for clients, result in http.items():
        ratio = ratio_cell(lambda r, c=clients: http_ratio(r, c), f"core `{args.http}` best")
        rows.append(
            (
                f"HTTP `{args.http}`, {clients} concurrent clients x 1 pair",
                rate_cell(lambda r, c=clients: r["http"][c]["rate"]),
                result["p50_ms"],
                result["p99_ms"],
                http_rss,
                ratio,
            )
        )
    repeats = f", median of {len(rounds)} rounds (range)" if len(rounds) > 1 else ""
    print(
        f"\n## Throughput: {Path(args.model).name}, {len(baseline['labels'])} pairs ({source}), "
        f"{args.threads} thread(s){repeats}; {describe_cpu()}\n"
    )
    print("| measurement | pairs/s | p50 ms | p99 ms | peak RSS MB | ratio |")
    print("|---|---:|---:|---:|---:|---|")
    for name, rate, p50, p99, rss, ratio in rows:
        print(f"| {name} | {rate} | {fmt(p50)} | {fmt(p99)} | {fmt(rss, 0)} | {ratio} |")
    print()
    for entry, core in cores.items():
        agreement = sum(a == b for a, b in zip(core["labels"], baseline["labels"], strict=True))
        line = f"- `{entry}`: same argmax as CrossEncoder on {100 * agreement / len(core['labels']):.1f}%"
        ratio = spread_of(
            rounds,
            lambda r, e=entry: (
                r["cores"][e]["rates"][32] / r["baseline"]["rates"][32]
                if 32 in r["cores"][e]["rates"] and 32 in r["baseline"]["rates"]
                else None
            ),
        )
        if ratio:
            line += f"; batch 32 **{ratio.format(2, 'x')}** CrossEncoder ({floor_verdict(ratio, CORE_FLOOR)})"
        print(line)
    for clients, result in http.items():
        busy, model_rate = 100 * result["model_busy"], fmt(result["model_rate"])
        print(
            f"- HTTP, {clients} clients, inside the service: micro-batches of "
            f"{fmt(result['mean_batch_pairs'])} pairs on average; the model computed "
            f"{busy:.0f}% of the run, at {model_rate} pairs/s of model time; CPU cores in use on average: "
            f"service {result['server_cores']:.2f}, load generator {result['client_cores']:.2f}"
        )
    ratio = spread_of(rounds, lambda r: http_ratio(r, 64))
    if ratio:
        print(
            f"- HTTP, 64 clients vs core `{args.http}` best: **{ratio.format(2, 'x')}** "
            f"({floor_verdict(ratio, HTTP_FLOOR)})"
        )


def floor_verdict(ratio: Spread, floor: float) -> str:
    """Met or not by the median; with rounds on both sides of the floor, says so."""
    verdict = "met" if ratio.median >= floor else "NOT met"
    if ratio.low < floor <= ratio.high:
        verdict += ", some rounds on the other side"
    return f"floor {floor}x: {verdict}"


ENTRIES = "torch, onnx, openvino, auto, onnx:SCHEME or openvino:PRECISION (f32, bf16)"


def backend_and_precision(backend: str) -> tuple[str, str]:
    """``openvino:f32`` -> (``openvino``, ``f32``); any other backend -> (it, ``auto``)."""
    name, _, precision = backend.partition(":")
    return name, precision or "auto"


def resolve(entry: str, model: str, work: Path) -> tuple[str, str]:
    """(model folder, backend) of a ``--backends`` entry (:data:`ENTRIES`); the backend keeps an
    OpenVINO precision (``openvino:f32``) for the worker and the service to split off."""
    backend, _, option = entry.partition(":")
    if backend == "openvino" and option in ("", "f32", "bf16"):
        return model, entry
    if backend not in ("torch", "onnx", "auto") or (option and backend != "onnx"):
        raise SystemExit(f"unknown backend entry {entry!r}: {ENTRIES}")
    return (str(scheme_folder(Path(model), option, work)) if option else model), backend


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=default_model(), help="model folder (default: the shipped model)")
    parser.add_argument("--pairs", type=int, default=2000, help="number of pairs (default 2000)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 200 pairs")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="threads for every party")
    parser.add_argument("--backends", default="torch,auto", help=f"core rows: {ENTRIES}")
    parser.add_argument("--batches", default=",".join(map(str, BATCHES)), help="batch sizes, comma-separated")
    parser.add_argument("--http", default="auto", help="backend entry the service runs on ('none': skip)")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="where onnx:SCHEME copies go")
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds of every measurement, interleaved; medians and ranges"
    )
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--worker-backend", default="auto", help=argparse.SUPPRESS)
    parser.add_argument("--pairs-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    batches = [int(size) for size in args.batches.split(",")]
    if args.worker:
        pairs = [tuple(pair) for pair in json.loads(args.pairs_file.read_text())]
        print(json.dumps(WORKERS[args.worker](args.model, pairs, args.threads, args.worker_backend, batches)))
        return
    if not (Path(args.model) / "config.json").is_file():
        raise SystemExit(f"no model at {args.model}; pass --model or build the shipped one (`make model`)")
    entries = [entry.strip() for entry in args.backends.split(",") if entry.strip()]
    targets = {entry: resolve(entry, args.model, args.work) for entry in {*entries, args.http} - {"none"}}
    count = min(args.pairs, 200) if args.quick else args.pairs
    pairs, source = build_pairs(count)
    rounds = []
    for index in range(args.repeat):
        if args.repeat > 1:
            print(f"round {index + 1} of {args.repeat}", file=sys.stderr)
        rounds.append(measure_round(args, entries, targets, pairs))
    report(args, source, rounds)


def measure_round(args, entries: list[str], targets: dict[str, tuple[str, str]], pairs) -> dict:
    """Every party once, in a fixed order: the core per backend, the baseline, then the service."""
    cores = {}
    with tempfile.TemporaryDirectory() as tmp:
        pairs_file = Path(tmp) / "pairs.json"
        pairs_file.write_text(json.dumps(pairs))
        for entry in entries:
            print(f"measuring the core on {entry} ...", file=sys.stderr)
            folder, backend = targets[entry]
            cores[entry] = run_worker("core", folder, pairs_file, args, backend)
        print("measuring CrossEncoder.predict ...", file=sys.stderr)
        baseline = run_worker("crossencoder", args.model, pairs_file, args)
    http, http_rss = {}, None
    if args.http != "none":
        print(f"measuring the HTTP service on {args.http} ...", file=sys.stderr)
        folder, backend = targets[args.http]
        http, http_rss = measure_http(folder, pairs, args.threads, backend)
    return {"cores": cores, "baseline": baseline, "http": http, "http_rss": http_rss}


if __name__ == "__main__":
    main()
