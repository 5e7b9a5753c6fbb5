"""Title cards: a film's opening card, an event's date and name, drawn with Pillow (notebook 06).

A card is an image the size of the film's frames: its lines centred, the first one larger, light
on a dark background, in the font Pillow bundles (no system font needed; letters it lacks, such
as CJK ones, show as boxes). `make_album(..., title=...)` shows it for one slot before the photos,
never repainted.
"""

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from albumlib.film import events
from albumlib.film.canvas import canvas_size

BACKGROUND = (18, 18, 22)
INK = (238, 234, 226)           # the first line
SUBTLE = (176, 172, 166)        # the other lines
MARGIN = 0.08                   # of the width, left and right
LINE_HEIGHTS = (0.11, 0.07)     # font size as a share of the frame's height: first line, others
MIN_FONT = 6


def date_text(start, end=None):
    """'6 July 2024', '6-8 July 2024', '30 June - 2 July 2024', '30 December 2024 - 2 January
    2025' or 'undated' (start None); notebook 06."""
    if start is None:
        return "undated"
    end = start if end is None else end

    def day(d, month=True, year=True):
        return f"{d.day}{d.strftime(' %B') if month else ''}{d.strftime(' %Y') if year else ''}"

    if start.date() == end.date():
        return day(start)
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}-{day(end)}"
    if start.year == end.year:
        return f"{day(start, year=False)} - {day(end)}"
    return f"{day(start)} - {day(end)}"


def event_title(event):
    """An event's title text: its dates, then its label (events.event_label); notebook 06."""
    return f"{date_text(event.start, event.end)}\n{events.event_label(event)}"


def _font(pixels):
    return ImageFont.load_default(size=max(MIN_FONT, int(pixels)))


def _fitted(draw, line, pixels, max_width):
    """The bundled font at `pixels`, shrunk until `line` fits in max_width."""
    font = _font(pixels)
    while pixels > MIN_FONT and draw.textlength(line, font=font) > max_width:
        pixels = int(pixels * 0.9)
        font = _font(pixels)
    return font


def title_card(text, size):
    """The card of `text` (its lines; the first larger) as uint8 (height, width, 3); notebook 06.

    size: the frame, as for the film ("720p", "WxH" or (w, h)).
    """
    width, height = canvas_size(size)
    lines = [line.strip() for line in str(text).splitlines() if line.strip()] or [""]
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    fonts = [_fitted(draw, line, height * LINE_HEIGHTS[min(i, 1)], width * (1 - 2 * MARGIN))
             for i, line in enumerate(lines)]
    steps = [font.getbbox("Hg")[3] * 1.3 for font in fonts]     # line heights with spacing
    y = (height - sum(steps)) / 2
    for i, (line, font, step) in enumerate(zip(lines, fonts, steps)):
        draw.text((width / 2, y), line, font=font, fill=INK if i == 0 else SUBTLE, anchor="ma")
        y += step
    return np.asarray(image, dtype=np.uint8)
