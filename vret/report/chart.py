"""The session on one inline SVG figure: heart rate with its bands, level and SUDS, events."""

from __future__ import annotations

import html
import statistics

from exposure.models import SAFE_LEVEL
from vret.report.summary import Summary, clock

WIDTH, HEIGHT = 1000, 430
LEFT, RIGHT = 58, 58
HR_TOP, HR_BOTTOM = 46, 272
LV_TOP, LV_BOTTOM = 292, 392
AXIS_Y = LV_BOTTOM

COLORS = {
    "hr": "#b3261e",
    "level": "#1d4f91",
    "suds": "#d9730d",
    "decision": "#1d4f91",
    "safe": "#b3261e",
    "note": "#555555",
    "scene_event": "#6a3d9a",
    "system": "#8a6d00",
}


def _nice_step(span: float, target: int) -> float:
    raw = span / max(1, target)
    for step_s in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200):
        if step_s >= raw:
            return float(step_s)
    return 7200.0


def chart_svg(s: Summary) -> str:
    """The session on one figure: HR with its bands (top), level and SUDS (bottom), events."""
    cfg = s.settings
    span = max(s.duration_s, 1.0)
    t0 = s.start.t
    plot_w = WIDTH - LEFT - RIGHT

    def x(t: float) -> float:
        return LEFT + (t - t0) / span * plot_w

    hr_values = [hr for _, hr in s.readings]
    lo = min(hr_values, default=60.0)
    hi = max(hr_values, default=100.0)
    if s.baseline_hr is not None:
        lo = min(lo, s.baseline_hr)
        hi = max(hi, s.baseline_hr * (1 + cfg.ceiling))
    lo = 10 * ((lo - 5) // 10)
    hi = 10 * ((hi + 14) // 10)

    def y(hr: float) -> float:
        hr = min(max(hr, lo), hi)
        return HR_BOTTOM - (hr - lo) / (hi - lo) * (HR_BOTTOM - HR_TOP)

    top = s.ladder.top

    def yl(level: float) -> float:
        return LV_BOTTOM - level / max(top, 1) * (LV_BOTTOM - LV_TOP)

    def ys(value: float) -> float:
        return LV_BOTTOM - value / 100 * (LV_BOTTOM - LV_TOP)

    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-labelledby="chart-title" class="chart">',
        '<title id="chart-title">Heart rate, exposure level, SUDS ratings and events over the session</title>',
        "<style>text{font:11px system-ui,sans-serif;fill:#333}.ax{stroke:#999;stroke-width:1}"
        ".grid{stroke:#e4e4e4;stroke-width:1}.tag{font-size:9px;font-weight:600;fill:#fff}"
        ".lab{font-size:11px;fill:#444;paint-order:stroke;stroke:#fff;stroke-width:3px;"
        "stroke-linejoin:round}</style>",
    ]
    # baseline period, then the bands relative to the baseline HR
    end_baseline = s.exposure_at if s.exposure_at is not None else s.baseline_at
    if end_baseline is not None and end_baseline > t0:
        out.append(
            f'<rect x="{LEFT}" y="{HR_TOP}" width="{x(end_baseline) - LEFT:.1f}" '
            f'height="{LV_BOTTOM - HR_TOP}" fill="#000" fill-opacity="0.045"/>'
            f'<text x="{LEFT + 4}" y="{HR_TOP + 12}" class="lab">baseline</text>'
        )
    labels: list[str] = []  # drawn over the HR line so it never hides them
    if s.baseline_hr is not None:
        b = s.baseline_hr
        x_from = x(s.baseline_at if s.baseline_at is not None else t0)
        bands = [
            (b * (1 + cfg.window_low), b * (1 + cfg.window_high), "#2e7d32", 0.13, "window"),
            (b * (1 + cfg.ceiling), b * (1 + cfg.hard_ceiling), "#f9a825", 0.2, "ceiling"),
            (b * (1 + cfg.hard_ceiling), hi, "#c62828", 0.1, "hard ceiling"),
        ]
        for low, high, color, opacity, name in bands:
            if low >= hi:
                continue
            y_hi, y_lo = y(high), y(low)
            out.append(
                f'<rect x="{x_from:.1f}" y="{y_hi:.1f}" width="{LEFT + plot_w - x_from:.1f}" '
                f'height="{max(0.0, y_lo - y_hi):.1f}" fill="{color}" fill-opacity="{opacity}"/>'
            )
            labels.append(
                f'<text x="{LEFT + plot_w - 4}" y="{y_lo - 3:.1f}" text-anchor="end" class="lab">{name}</text>'
            )
        out.append(
            f'<line x1="{x_from:.1f}" x2="{LEFT + plot_w}" y1="{y(b):.1f}" y2="{y(b):.1f}" '
            f'stroke="#444" stroke-dasharray="5 4"/>'
        )
        labels.append(
            f'<text x="{LEFT + plot_w - 4}" y="{y(b) - 3:.1f}" text-anchor="end" class="lab">'
            f"baseline {b:.0f} bpm</text>"
        )
    # HR grid and axis
    hr_step = 10 if hi - lo <= 80 else 20
    tick = lo
    while tick <= hi:
        out.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" class="grid"/>'
            f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:.0f}</text>'
        )
        tick += hr_step
    out.append(
        f'<text x="14" y="{(HR_TOP + HR_BOTTOM) / 2:.0f}" transform="rotate(-90 14 {(HR_TOP + HR_BOTTOM) / 2:.0f})" '
        'text-anchor="middle">heart rate (bpm)</text>'
    )
    # HR line, broken where the signal was lost
    gap = max(cfg.stale_after_s, 3.0)
    for run in _runs(s.readings, gap, plot_w / span):
        points = " ".join(f"{x(t):.1f},{y(hr):.1f}" for t, hr in run)
        if len(run) == 1:
            t, hr = run[0]
            out.append(f'<circle cx="{x(t):.1f}" cy="{y(hr):.1f}" r="1.6" fill="{COLORS["hr"]}"/>')
        else:
            out.append(
                f'<polyline points="{points}" fill="none" stroke="{COLORS["hr"]}" '
                'stroke-width="1.4" stroke-linejoin="round"/>'
            )
    if s.peak_hr is not None:
        pt, phr = s.peak_hr
        out.append(
            f'<circle cx="{x(pt):.1f}" cy="{y(phr):.1f}" r="3.2" fill="none" stroke="{COLORS["hr"]}" stroke-width="1.4"/>'
            f'<text x="{x(pt) + 5:.1f}" y="{y(phr) - 4:.1f}" class="lab">peak {phr:.0f}</text>'
        )
    out.extend(labels)
    # level panel
    for level in range(0, top + 1):
        out.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{yl(level):.1f}" y2="{yl(level):.1f}" class="grid"/>'
        )
        if top <= 12 or level % 2 == 0:
            label = "safe" if level == SAFE_LEVEL else str(level)
            out.append(
                f'<text x="{LEFT - 6}" y="{yl(level) + 4:.1f}" text-anchor="end" fill="{COLORS["level"]}">{label}</text>'
            )
    for value in (0, 50, 100):
        out.append(
            f'<text x="{LEFT + plot_w + 6}" y="{ys(value) + 4:.1f}" fill="{COLORS["suds"]}">{value}</text>'
        )
    out.append(
        f'<text x="14" y="{(LV_TOP + LV_BOTTOM) / 2:.0f}" transform="rotate(-90 14 {(LV_TOP + LV_BOTTOM) / 2:.0f})" '
        f'text-anchor="middle" fill="{COLORS["level"]}">level</text>'
        f'<text x="{WIDTH - 14}" y="{(LV_TOP + LV_BOTTOM) / 2:.0f}" '
        f'transform="rotate(90 {WIDTH - 14} {(LV_TOP + LV_BOTTOM) / 2:.0f})" '
        f'text-anchor="middle" fill="{COLORS["suds"]}">SUDS</text>'
    )
    path: list[str] = []
    t_last = t0 + s.duration_s
    for i, (t, level, _) in enumerate(s.levels):
        t_next = s.levels[i + 1][0] if i + 1 < len(s.levels) else t_last
        path.append(
            f"{'M' if i == 0 else 'L'}{x(t):.1f},{yl(level):.1f} L{x(t_next):.1f},{yl(level):.1f}"
        )
    if path:
        out.append(
            f'<path d="{" ".join(path)}" fill="none" stroke="{COLORS["level"]}" stroke-width="2.2"/>'
        )
    for t, value, _ in s.suds:
        cx, cy = x(t), ys(value)
        out.append(
            f'<path d="M{cx:.1f},{cy - 5:.1f} L{cx + 5:.1f},{cy:.1f} L{cx:.1f},{cy + 5:.1f} L{cx - 5:.1f},{cy:.1f} Z" '
            f'fill="{COLORS["suds"]}" stroke="#fff" stroke-width="0.8"/>'
            f'<text x="{cx + 7:.1f}" y="{cy + 4:.1f}" fill="{COLORS["suds"]}" font-weight="600">{value}</text>'
        )
    # events: a dashed line through both panels and a tag on top, staggered when crowded
    row_end = [-1e9, -1e9, -1e9]
    for mark in s.marks:
        color = COLORS.get(mark.kind, "#333")
        cx = x(mark.t)
        width = 8 + 6 * len(mark.label)
        row = next(
            (r for r, end in enumerate(row_end) if cx - width / 2 > end + 2), len(row_end) - 1
        )
        row_end[row] = cx + width / 2
        ty = 8 + row * 12
        out.append(
            f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{ty + 10}" y2="{LV_BOTTOM}" stroke="{color}" '
            'stroke-width="0.8" stroke-dasharray="2 3" stroke-opacity="0.8"/>'
            f'<rect x="{cx - width / 2:.1f}" y="{ty}" width="{width}" height="11" rx="3" fill="{color}"/>'
            f'<text x="{cx:.1f}" y="{ty + 8.5}" text-anchor="middle" class="tag">{html.escape(mark.label, quote=True)}</text>'
        )
    # time axis
    out.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{AXIS_Y}" y2="{AXIS_Y}" class="ax"/>')
    step_s = _nice_step(span, 10)
    tick_t = 0.0
    while tick_t <= span + 1e-9:
        tx = x(t0 + tick_t)
        out.append(
            f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{AXIS_Y}" y2="{AXIS_Y + 4}" class="ax"/>'
            f'<text x="{tx:.1f}" y="{AXIS_Y + 16}" text-anchor="middle">{clock(tick_t)}</text>'
        )
        tick_t += step_s
    out.append(
        f'<text x="{LEFT + plot_w / 2:.0f}" y="{HEIGHT - 8}" text-anchor="middle">session time (min:s)</text>'
    )
    out.append(
        f'<rect x="{LEFT}" y="{HR_TOP}" width="{plot_w}" height="{HR_BOTTOM - HR_TOP}" fill="none" class="ax"/>'
    )
    out.append(
        f'<rect x="{LEFT}" y="{LV_TOP}" width="{plot_w}" height="{LV_BOTTOM - LV_TOP}" fill="none" class="ax"/>'
    )
    out.append("</svg>")
    return "\n".join(out)


def _runs(
    readings: list[tuple[float, float]], gap_s: float, px_per_s: float
) -> list[list[tuple[float, float]]]:
    """Split readings where the signal was lost; average points that share a pixel column."""
    runs: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    column: list[tuple[float, float]] = []

    def flush_column() -> None:
        if column:
            current.append(
                (statistics.fmean(t for t, _ in column), statistics.fmean(h for _, h in column))
            )
            column.clear()

    last_t: float | None = None
    for t, hr in readings:
        if last_t is not None and t - last_t > gap_s:
            flush_column()
            runs.append(current)
            current = []
        if column and int(t * px_per_s) != int(column[0][0] * px_per_s):
            flush_column()
        column.append((t, hr))
        last_t = t
    flush_column()
    if current:
        runs.append(current)
    return [r for r in runs if r]
