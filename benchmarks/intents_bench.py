"""Speed and memory of message understanding on one core.

    python benchmarks/intents_bench.py [--json] [--messages N] [--cli-lines N]

Measures: model load time (including the jieba dictionary); throughput one
message at a time and in batches; p50/p99 latency of single messages over a
realistic mix (the training and stress messages, plus 10% long letters of
500–3,000 characters); the peak RSS of this process; and, with --cli-lines,
the wall time of ``python -m bot.intents.cli classify`` on that many lines.
Throughput and latency are given in CPU time of the one core used (steady on a
shared machine) and in wall-clock time (what a caller waits, neighbours included).
"""

from __future__ import annotations

import os

# One core, one thread: set before numpy/scipy are imported.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402


def _messages(count: int) -> list[str]:
    from bot.intents.data import data_dir, read_examples

    texts = []
    for pattern in ("*_train.jsonl", "seed_*.jsonl", "stress_*.jsonl"):
        for path in sorted(data_dir().glob(pattern)):
            texts.extend(e.text for e in read_examples(path))
    rng = random.Random(7)
    mix = []
    for i in range(count):
        if i % 10 == 9:  # a long letter: several messages run together
            letter, size = "", rng.randint(500, 3000)
            while len(letter) < size:
                letter += rng.choice(texts) + " "
            mix.append(letter)
        else:
            mix.append(rng.choice(texts))
    return mix


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _cli_run(lines: int, messages: list[str]) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as f:
        for i in range(lines):
            f.write(json.dumps({"text": messages[i % len(messages)]}, ensure_ascii=False) + "\n")
        name = f.name
    start = time.perf_counter()
    with open(name, encoding="utf-8") as stdin:
        done = subprocess.run(
            [sys.executable, "-m", "bot.intents.cli", "classify"],
            stdin=stdin,
            capture_output=True,
            check=True,
        )
    seconds = time.perf_counter() - start
    os.unlink(name)
    answered = done.stdout.count(b"\n")
    return {
        "lines": lines,
        "answered": answered,
        "seconds": round(seconds, 2),
        "lines_per_s": round(lines / seconds),
    }


def _percentiles(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    if not ordered:
        return {}
    return {
        "n": len(ordered),
        "mean": round(sum(ordered) / len(ordered) * 1000, 3),
        "p50": round(ordered[len(ordered) // 2] * 1000, 3),
        "p99": round(ordered[int(len(ordered) * 0.99)] * 1000, 3),
        "max": round(ordered[-1] * 1000, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--cli-lines", type=int, default=0)
    args = parser.parse_args()

    start = time.perf_counter()
    from bot.intents import DEFAULT_MODEL_PATH, load_classifier

    import_s = time.perf_counter() - start
    start = time.perf_counter()
    classifier = load_classifier()
    load_s = time.perf_counter() - start

    messages = _messages(args.messages)
    for text in messages[:200]:  # warm caches
        classifier.understand(text)

    # Wall-clock and CPU time of this thread: on a shared machine the CPU figures
    # show what one core does; the wall-clock ones include time lost to neighbours.
    latencies, cpu_latencies = [], []
    start, cpu_start = time.perf_counter(), time.thread_time()
    for text in messages:
        t0, c0 = time.perf_counter(), time.thread_time()
        classifier.understand(text)
        latencies.append(time.perf_counter() - t0)
        cpu_latencies.append(time.thread_time() - c0)
    single_s, single_cpu_s = time.perf_counter() - start, time.thread_time() - cpu_start
    by_size = {
        "chat (<500 chars)": [
            t for t, m in zip(cpu_latencies, messages, strict=True) if len(m) < 500
        ],
        "letter (500-3000)": [
            t for t, m in zip(cpu_latencies, messages, strict=True) if len(m) >= 500
        ],
    }

    start, cpu_start = time.perf_counter(), time.thread_time()
    classifier.understand_many(messages)
    batch_s, batch_cpu_s = time.perf_counter() - start, time.thread_time() - cpu_start

    short = [len(m) for m in messages]
    result: dict[str, Any] = {
        "machine": {
            "cpu": _cpu(),
            "cores_available": os.cpu_count(),
            "cores_used": 1,
            "python": platform.python_version(),
        },
        "messages": len(messages),
        "mean_chars": round(sum(short) / len(short)),
        "long_messages": sum(1 for n in short if n >= 500),
        "import_s": round(import_s, 3),
        "model_load_s": round(load_s, 3),
        "single_msgs_per_cpu_s": round(len(messages) / single_cpu_s),
        "batched_msgs_per_cpu_s": round(len(messages) / batch_cpu_s),
        "cpu_latency_ms": _percentiles(cpu_latencies),
        "cpu_latency_ms_by_size": {name: _percentiles(times) for name, times in by_size.items()},
        "single_msgs_per_s_wall": round(len(messages) / single_s),
        "batched_msgs_per_s_wall": round(len(messages) / batch_s),
        "latency_ms_wall": _percentiles(latencies),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "model_file_bytes": DEFAULT_MODEL_PATH.stat().st_size,
    }
    if args.cli_lines:
        result["cli_classify"] = _cli_run(args.cli_lines, messages)

    for key, value in result.items():
        print(f"{key:<20} {value}")
    if args.json:
        print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
