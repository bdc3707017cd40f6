"""The soak's table (per minute) and plot (throughput and latency over time, PNG).

Records are dicts with `kind`, `at` (s since the traffic began), `ms` and `status`; press-to-platform
records (kind `warn` / `terminate`) have `ms` None when the redirect never arrived."""
import statistics
from collections import defaultdict

KINDS = ("ring", "accept", "status", "warn", "terminate", "claim", "dial")


def percentile(values: list[float], q: int) -> float | None:
    """The q-th percentile (linear interpolation, as bench/press.py), None for no values."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(sorted(values), n=100, method="inclusive")[q - 1]


def _cell(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{percentile(values, 50):.0f}/{percentile(values, 99):.0f}"


def _buckets(records: list[dict], width: float) -> dict[int, list[dict]]:
    buckets = defaultdict(list)
    for record in records:
        buckets[int(record["at"] // width)].append(record)
    return buckets


def table(records: list[dict], press: list[dict], seconds: float, traffic_s: float) -> str:
    """Markdown table: per minute, requests/s answered, p50/p99 ms per kind, press-to-platform p50/p99
    per act. `seconds`: from the first call to the last request; `traffic_s`: while new calls started
    (a minute after that is the tail: the last calls finishing)."""
    head = ["minute", "req/s", *[f"{k} p50/p99" for k in KINDS], "warn->platform p50/p99",
            "terminate->platform p50/p99"]
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join(["---"] + ["---:"] * (len(head) - 1)) + " |"]
    by_minute, press_by_minute = _buckets(records, 60), _buckets(press, 60)
    minutes = sorted(set(by_minute) | set(press_by_minute))
    for minute in [*minutes, None]:
        rows = records if minute is None else by_minute[minute]
        pressed = press if minute is None else press_by_minute[minute]
        span = seconds if minute is None else max(1.0, min(60.0, seconds - minute * 60))
        answered = [r for r in rows if r["status"] is not None]
        cells = [_cell([r["ms"] for r in answered if r["kind"] == kind]) for kind in KINDS]
        reached = [_cell([p["ms"] for p in pressed if p["kind"] == kind and p["ms"] is not None])
                   for kind in ("warn", "terminate")]
        label = "all" if minute is None else f"{minute + 1}{' (tail)' if minute * 60 >= traffic_s else ''}"
        lines.append("| " + " | ".join([label, f"{len(answered) / span:.1f}", *cells, *reached]) + " |")
    return "\n".join(lines)


def plot(records: list[dict], press: list[dict], path: str, title: str, width: float = 10.0) -> None:
    """Two panels over time (bins of `width` s): requests/s answered; p50 and p99 latency of ring, the
    API presses and press-to-platform (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, (top, bottom) = pyplot.subplots(2, 1, figsize=(10, 7), sharex=True)
    by_bin = _buckets(records, width)
    bins = sorted(by_bin)
    top.plot([(b + 0.5) * width for b in bins], [sum(r["status"] is not None for r in by_bin[b]) / width for b in bins],
             label="requests/s answered")
    top.set_ylabel("requests/s")
    top.legend(loc="lower right")
    top.set_title(title)
    series = {"ring": [r for r in records if r["kind"] == "ring"],
              "warn + terminate (API)": [r for r in records if r["kind"] in ("warn", "terminate")],
              "press to platform": [p for p in press if p["ms"] is not None]}
    for (name, rows), colour in zip(series.items(), ("tab:blue", "tab:orange", "tab:green"), strict=True):
        binned = _buckets(rows, width)
        xs = sorted(binned)
        for q, style in ((50, "-"), (99, ":")):
            bottom.plot([(x + 0.5) * width for x in xs], [percentile([r["ms"] for r in binned[x]], q) for x in xs],
                        style, color=colour, label=f"{name} p{q}")
    bottom.set_yscale("log")
    bottom.set_ylabel("latency, ms (log)")
    bottom.set_xlabel("seconds since the traffic began")
    bottom.legend(loc="upper left", fontsize=8, ncol=3)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
