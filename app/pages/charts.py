"""Inline SVG chart geometry for the trends page (no JavaScript, no CDN). Templates draw the shapes;
Jinja escapes every label, so team names and reasons can never become markup."""

LABELS = {"incidents": "Incidents", "warnings": "Warnings", "terminations": "Terminations", "on_time": "On time",
          "late": "Late", "open_in_time": "Open, in time", "open_overdue": "Open, overdue"}


def _nice_max(value: int) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        if value <= step * 4:
            return step * 4
    return value


def columns(rows: list[dict], label_key: str, series: tuple[str, ...], width: int = 720, height: int = 260,
            label=lambda v: v) -> dict:
    """Grouped columns: one group per row (e.g. a week), one column per series."""
    left, bottom, top = 36, 40, 10
    top_value = _nice_max(max([r[s] for r in rows for s in series] + [1]))
    plot_h = height - bottom - top
    group_w = (width - left - 8) / max(1, len(rows))
    bar_w = max(2.0, (group_w - 6) / len(series))
    rects, texts = [], []
    for tick in range(5):
        value = top_value * tick // 4
        y = top + plot_h - plot_h * value / top_value
        texts.append({"x": left - 6, "y": y + 4, "text": str(value), "anchor": "end", "cls": "axis"})
        rects.append({"x": left, "y": y, "w": width - left - 8, "h": 0.5, "cls": "grid", "title": None})
    for i, row in enumerate(rows):
        x0 = left + i * group_w + 3
        for j, s in enumerate(series):
            h = plot_h * row[s] / top_value
            rects.append({"x": round(x0 + j * bar_w, 1), "y": round(top + plot_h - h, 1), "w": round(bar_w - 1, 1),
                          "h": round(h, 1), "cls": f"s-{s}", "title": f"{label(row[label_key])}: {row[s]} {LABELS[s].lower()}"})
        if len(rows) <= 13 or i % 2 == 0:
            texts.append({"x": round(x0 + group_w / 2 - 3, 1), "y": height - bottom + 16, "text": label(row[label_key]),
                          "anchor": "middle", "cls": "axis"})
    return {"width": width, "height": height, "rects": rects, "texts": texts,
            "legend": [(LABELS[s], f"s-{s}") for s in series]}


def stacked(rows: list[dict], label_key: str, series: tuple[str, ...], width: int = 720, label_w: int = 170,
            row_h: int = 26) -> dict:
    """Horizontal stacked bars: one bar per row (team, site, reason...), segments per series, total at the end."""
    rows = rows[:15]
    height = max(1, len(rows)) * row_h + 10
    total_max = max([sum(r[s] or 0 for s in series) for r in rows] + [1])
    plot_w = width - label_w - 50
    rects, texts = [], []
    for i, row in enumerate(rows):
        y = 5 + i * row_h
        x: float = label_w
        name = str(row[label_key]).replace("_", " ")
        texts.append({"x": label_w - 8, "y": y + row_h / 2 + 4, "text": name[:28], "anchor": "end", "cls": "axis"})
        total = 0
        for s in series:
            value = row[s] or 0
            w = plot_w * value / total_max
            if value:
                rects.append({"x": round(x, 1), "y": y + 3, "w": round(w, 1), "h": row_h - 8, "cls": f"s-{s}",
                              "title": f"{name}: {value} {LABELS[s].lower()}"})
            x += w
            total += value
        texts.append({"x": round(x + 6, 1), "y": y + row_h / 2 + 4, "text": str(total), "anchor": "start", "cls": "axis"})
    return {"width": width, "height": height, "rects": rects, "texts": texts,
            "legend": [(LABELS[s], f"s-{s}") for s in series]}
