"""A picture of what was read: each line's polygon, baseline, number and text drawn over the
page (``htrkit run --overlay``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from htrkit.results import Result

#: colours cycle so that neighbouring lines differ
_COLOURS = [(0, 150, 60), (0, 90, 200), (190, 60, 0), (140, 0, 160)]


def draw_overlay(image: np.ndarray, result: Result, max_side: int = 3000) -> object:
    """A PIL image: the page (scaled to at most ``max_side`` pixels a side), line polygons
    and baselines, and each line's text on a pale band above it."""
    from PIL import Image, ImageDraw

    page = Image.fromarray(image).convert("RGB")
    scale = min(1.0, max_side / max(page.width, page.height, 1))
    if scale < 1.0:
        page = page.resize((max(int(page.width * scale), 1), max(int(page.height * scale), 1)))
    canvas = page.convert("RGBA")
    layer = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    heights = [max(line.bbox[3] - line.bbox[1], 1) for line in result.lines]
    size = max(10, int(0.45 * scale * (float(np.median(heights)) if heights else 40)))
    font = _font(size)
    for i, line in enumerate(result.lines):
        colour = _COLOURS[i % len(_COLOURS)]
        poly = [(x * scale, y * scale) for x, y in line.polygon]
        if len(poly) >= 3:
            draw.polygon(poly, fill=(*colour, 40), outline=(*colour, 255))
        else:
            x0, y0, x1, y1 = (v * scale for v in line.bbox)
            draw.rectangle((x0, y0, x1, y1), outline=(*colour, 255))
        base = [(x * scale, y * scale) for x, y in line.baseline]
        if len(base) >= 2:
            draw.line(base, fill=(220, 0, 0, 255), width=max(1, size // 8))
        x0, y0 = line.bbox[0] * scale, line.bbox[1] * scale
        label = f"{i + 1}: {line.text}"
        box = draw.textbbox((x0, y0), label, font=font, anchor="ls")
        draw.rectangle(box, fill=(255, 255, 230, 200))
        draw.text((x0, y0), label, font=font, fill=(*colour, 255), anchor="ls")
    return Image.alpha_composite(canvas, layer).convert("RGB")


def _font(size: int) -> object:
    """DejaVu Sans (it ships with matplotlib, a dependency: Pillow's built-in font has no
    accented letters), else Pillow's own."""
    from PIL import ImageFont

    try:
        import matplotlib

        path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
        return ImageFont.truetype(str(path), size)
    except (ImportError, OSError):
        return ImageFont.load_default(size=size)


def save_overlay(image: np.ndarray, result: Result, path: Path) -> Path:
    from htrkit.atomic import replacing

    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as tmp:
        draw_overlay(image, result).save(tmp, format="PNG")
    return path
