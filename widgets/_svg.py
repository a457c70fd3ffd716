"""Plain SVG and HTML for the widgets' static fallbacks: no matplotlib, no graphviz, nothing
fetched at render time, and the same bytes for the same data (so outputs can be compared).

Every function returns a string; numbers are formatted with a fixed precision."""
import html
import math

PALETTE = ('#4c72b0', '#dd8452', '#55a868', '#c44e52', '#8172b3', '#937860', '#da8bc3',
           '#8c8c8c')
WARNING = '#c44e52'
FONT = 'font-family="monospace" font-size="11"'


def escape(value):
    return html.escape(str(value), quote=True)


def fmt(x, digits=4):
    """A number as short readable text: 0.0123, 1.23e-07, 1234, nan, inf."""
    if x is None:
        return '-'
    if isinstance(x, int) and not isinstance(x, bool):
        return str(x)
    x = float(x)
    if math.isnan(x) or math.isinf(x):
        return str(x)
    return f'{x:.{digits}g}'


def _n(x):
    return f'{x:.1f}'


def tick(x):
    """An axis label: short, and without an exponent for counts (1690, not 1.69e+03)."""
    if isinstance(x, (int, float)) and math.isfinite(x) and 100 <= abs(x) < 1e6:
        return f'{x:.0f}'
    return fmt(x, 3)


def pre(value, style=''):
    """Preformatted text in a monospace font named explicitly (nbconvert's HTML and some front
    ends leave a bare <pre> in the page's proportional font, and the columns then misalign)."""
    return (f'<pre style="font-family:monospace;line-height:1.2;{style}">{escape(value)}'
            f'</pre>')


def svg(width, height, body, title=None):
    label = f'<title>{escape(title)}</title>' if title else ''
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{int(width)}" height="{int(height)}" '
            f'viewBox="0 0 {int(width)} {int(height)}">{label}{"".join(body)}</svg>')


def text(x, y, value, anchor='start', color='#222', extra=''):
    return (f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}" fill="{color}" {FONT}'
            f'{" " + extra if extra else ""}>{escape(value)}</text>')


def rect(x, y, w, h, fill, extra=''):
    return (f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(max(w, 0))}" height="{_n(max(h, 0))}" '
            f'fill="{fill}"{" " + extra if extra else ""}/>')


def line(x1, y1, x2, y2, color='#888', width=1, extra=''):
    return (f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" stroke="{color}" '
            f'stroke-width="{width}"{" " + extra if extra else ""}/>')


def polyline(points, color, width=1.5):
    path = ' '.join(f'{_n(x)},{_n(y)}' for x, y in points)
    return f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="{width}"/>'


def bar_chart(labels, values, width=420, bar_height=16, colors=None, value_text=None,
              title=None):
    """Horizontal bars, one per label, scaled to the largest value (values >= 0)."""
    label_width = 7 * max((len(str(label)) for label in labels), default=0) + 8
    text_width = 80
    plot_width = max(width - label_width - text_width, 40)
    top = 18 if title else 2
    height = top + bar_height * len(labels) + 4
    finite = [v for v in values if v is not None and math.isfinite(v)]
    largest = max(finite, default=0) or 1
    body = [text(0, 12, title, extra='font-weight="bold"')] if title else []
    for i, (label, value) in enumerate(zip(labels, values)):
        y = top + i * bar_height
        body.append(text(label_width - 6, y + bar_height - 4, label, anchor='end'))
        shown = value if value is not None and math.isfinite(value) else 0
        color = (colors[i] if colors else PALETTE[0])
        body.append(rect(label_width, y + 2, plot_width * shown / largest, bar_height - 4, color))
        note = value_text[i] if value_text else fmt(value)
        body.append(text(label_width + plot_width * shown / largest + 4, y + bar_height - 4,
                         note))
    return svg(width, height, body, title)


def _axes(width, height, margin, x_range, y_range, x_label=None, y_label=None):
    """Frame and tick labels; returns (body, to_x, to_y) mapping data to pixels."""
    left, right, top, bottom = margin
    (x0, x1), (y0, y1) = x_range, y_range
    x1 = x1 if x1 != x0 else x0 + 1
    y1 = y1 if y1 != y0 else y0 + 1

    def to_x(x):
        return left + (x - x0) / (x1 - x0) * (width - left - right)

    def to_y(y):
        return height - bottom - (y - y0) / (y1 - y0) * (height - top - bottom)

    body = [line(left, height - bottom, width - right, height - bottom, '#444'),
            line(left, top, left, height - bottom, '#444'),
            text(left - 4, top + 8, tick(y1), anchor='end'),
            text(left - 4, height - bottom, tick(y0), anchor='end'),
            text(left, height - bottom + 13, tick(x0)),
            text(width - right, height - bottom + 13, tick(x1), anchor='end')]
    if x_label:
        body.append(text((left + width - right) / 2, height - 2, x_label, anchor='middle'))
    if y_label:
        body.append(text(2, top - 4, y_label))
    return body, to_x, to_y


def histogram(edges, counts, width=360, height=180, density=None, title=None,
              x_label=None, color=PALETTE[0], bars=True, scale='density'):
    """A histogram of counts per bin between edges. scale='density' draws count / total / bin
    width, so that `density`, [(x, y), ...] of a pdf (a curve) or for a discrete family
    [(k, p), ...] (points), can be drawn over it; scale='count' draws the counts themselves."""
    total = sum(counts) or 1
    widths = [b - a for a, b in zip(edges[:-1], edges[1:])]
    heights = list(counts) if scale == 'count' else \
        [c / total / w if w > 0 else 0 for c, w in zip(counts, widths)]
    curve = [(x, y) for x, y in (density or []) if y is not None and math.isfinite(y)]
    top_value = max(heights + [y for _, y in curve], default=1)
    body, to_x, to_y = _axes(width, height, (48, 8, 20 if title else 8, 18),
                             (edges[0], edges[-1]), (0, top_value * 1.05), x_label)
    if title:
        body.insert(0, text(48, 12, title, extra='font-weight="bold"'))
    if bars:
        for a, b, h in zip(edges[:-1], edges[1:], heights):
            body.append(rect(to_x(a), to_y(h), to_x(b) - to_x(a), to_y(0) - to_y(h), color,
                             'fill-opacity="0.6"'))
    if curve:
        if len(curve) > 1 and all(float(x).is_integer() for x, _ in curve) and len(curve) < 60:
            body.extend(f'<circle cx="{_n(to_x(x))}" cy="{_n(to_y(y))}" r="3" fill="{WARNING}"/>'
                        for x, y in curve)
        else:
            body.append(polyline([(to_x(x), to_y(y)) for x, y in curve], WARNING, 2))
    return svg(width, height, body, title)


def line_chart(series, width=420, height=200, title=None, x_label=None, log_y=False):
    """series: {name: [(x, y), ...]}; one colored line each, with a legend; non-finite points
    are skipped (a NaN loss shows as a gap, and the text fallback says so)."""
    def ok(y):
        return y is not None and math.isfinite(y) and (y > 0 or not log_y)

    def tr(y):
        return math.log10(y) if log_y else y

    points = [(x, tr(y)) for pts in series.values() for x, y in pts if ok(y)]
    xs = [x for x, _ in points] or [0, 1]
    ys = [y for _, y in points] or [0, 1]
    body, to_x, to_y = _axes(width, height, (56, 8, 20 if title else 8, 18),
                             (min(xs), max(xs)), (min(ys), max(ys)), x_label,
                             'log10' if log_y else None)
    if title:
        body.insert(0, text(56, 12, title, extra='font-weight="bold"'))
    for i, (name, pts) in enumerate(series.items()):
        color = PALETTE[i % len(PALETTE)]
        visible = [(to_x(x), to_y(tr(y))) for x, y in pts if ok(y)]
        if len(visible) == 1:
            x, y = visible[0]
            body.append(f'<circle cx="{_n(x)}" cy="{_n(y)}" r="2.5" fill="{color}"/>')
        elif visible:
            body.append(polyline(visible, color))
        body.append(rect(width - 110, 4 + 14 * i, 10, 10, color))
        body.append(text(width - 96, 13 + 14 * i, name))
    return svg(width, height, body, title)


def table(headers, rows, align=None, caption=None, row_styles=None):
    """An HTML table; align: one of 'l'/'r' per column (numbers right-aligned by default)."""
    align = align or ['l'] + ['r'] * (len(headers) - 1)
    style = {'l': 'text-align:left', 'r': 'text-align:right'}
    head = ''.join(f'<th style="{style[a]}">{escape(h)}</th>' for h, a in zip(headers, align))
    body = []
    for i, row in enumerate(rows):
        extra = f' style="{row_styles[i]}"' if row_styles and row_styles[i] else ''
        cells = ''.join(f'<td style="{style[a]}">{escape(c)}</td>' for c, a in zip(row, align))
        body.append(f'<tr{extra}>{cells}</tr>')
    cap = f'<caption style="text-align:left"><b>{escape(caption)}</b></caption>' if caption else ''
    return (f'<table class="nbgrad-table" style="border-collapse:collapse;font-family:monospace">'
            f'{cap}<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>')


def text_table(headers, rows, align=None):
    """The same table as aligned plain text (the text/plain fallback)."""
    align = align or ['l'] + ['r'] * (len(headers) - 1)
    cells = [list(map(str, headers))] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def render(row):
        return '  '.join(c.ljust(w) if a == 'l' else c.rjust(w)
                         for c, w, a in zip(row, widths, align)).rstrip()
    rule = '  '.join('-' * w for w in widths)
    return '\n'.join([render(cells[0]), rule] + [render(r) for r in cells[1:]])
