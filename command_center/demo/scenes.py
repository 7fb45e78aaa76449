"""Synthetic scene pictures (示意图) for the demo city's case photos.

A dozen simple street scenes, one per kind of problem, each in a "before" state (the
problem visible), an "after" state (handled) and, for what cameras see, a "camera" still
with an OSD bar. Every picture says in large type that it is a 示意图 of demo data, so
nobody mistakes it for evidence. They are drawn with Pillow once per process (a few ms
each) and shared by every demo case of that kind: the database stores each image once.
"""

from __future__ import annotations

import io
import random
from functools import cache
from typing import Literal

from PIL import Image, ImageDraw, ImageFont

from command_center.settings import ROOT

FONT = ROOT / "assets" / "fonts" / "NotoSansSC-GB2312-bold.woff2"
SIZE = (640, 480)
HORIZON = 250

State = Literal["before", "after", "camera"]

#: motif → (label shown on the picture, what it depicts)
MOTIFS: dict[str, str] = {
    "litter": "垃圾堆放",
    "structure": "违法搭建",
    "posters": "小广告",
    "site": "施工工地",
    "water": "道路积水",
    "road": "路面破损",
    "hazard": "危险警示",
    "vendor": "占道经营",
    "parking": "车辆乱停",
    "manhole": "井盖",
    "lamp": "路灯",
    "bin": "垃圾箱",
    "street": "街面",
}

EVENT_MOTIFS = {
    "0101": "structure", "0102": "litter", "0103": "litter", "0104": "litter",
    "0105": "litter", "0106": "litter", "0201": "posters", "0301": "site", "0302": "site",
    "0401": "road", "0402": "water", "0403": "hazard", "0404": "water", "0501": "vendor",
    "0502": "vendor", "0503": "vendor", "0504": "parking", "0505": "vendor",
}  # fmt: skip
COMPONENT_MOTIFS = {
    "0101": "manhole", "0102": "manhole", "0103": "manhole", "0105": "manhole",
    "0106": "manhole", "0104": "lamp", "0302": "bin",
}  # fmt: skip


def motif_for(kind: str, class_code: str) -> str:
    """The scene that illustrates a case class (a plain street for the rest)."""
    table = COMPONENT_MOTIFS if kind == "component" else EVENT_MOTIFS
    return table.get(class_code, "street")


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(str(FONT), size)
    except OSError:  # a build without the font: the label falls back, the scene still draws
        return ImageFont.load_default()


@cache
def scene_jpeg(motif: str, state: State) -> bytes:
    """The JPEG of one scene (deterministic: same bytes on every machine and run)."""
    image = Image.new("RGB", SIZE, (200, 214, 226))
    draw = ImageDraw.Draw(image)
    rng = random.Random(f"scene:{motif}")
    _street(draw, rng)
    problem = state != "after"
    painter = _PAINTERS.get(motif)
    if painter is not None:
        painter(draw, rng, problem)
    if state == "camera":
        draw.rectangle((0, 0, SIZE[0], 30), fill=(0, 0, 0))
        draw.text((10, 4), "视频抓拍 CAM", font=_font(18), fill=(255, 255, 255))
        draw.ellipse((SIZE[0] - 70, 9, SIZE[0] - 58, 21), fill=(230, 30, 30))
        draw.text((SIZE[0] - 52, 4), "REC", font=_font(18), fill=(230, 30, 30))
    _label(draw, MOTIFS.get(motif, "街面"), state)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80, optimize=True)
    return out.getvalue()


def _street(draw: ImageDraw.ImageDraw, rng: random.Random) -> None:
    w, h = SIZE
    for y in range(HORIZON):  # sky
        t = y / HORIZON
        draw.line((0, y, w, y), fill=(int(150 + 60 * t), int(190 + 30 * t), int(228 + 10 * t)))
    x = -rng.randint(0, 30)
    while x < w:  # grey-brick blocks with windows
        bw, bh = rng.randint(90, 170), rng.randint(90, 200)
        shade = rng.randint(120, 175)
        draw.rectangle((x, HORIZON - bh, x + bw, HORIZON), fill=(shade, shade - 8, shade - 16))
        for wy in range(HORIZON - bh + 14, HORIZON - 24, 28):
            for wx in range(x + 12, x + bw - 22, 26):
                draw.rectangle((wx, wy, wx + 12, wy + 14), fill=(92, 118, 140))
        x += bw + rng.randint(4, 16)
    draw.rectangle((0, HORIZON, w, 330), fill=(176, 170, 160))  # pavement
    for px in range(0, w, 40):
        draw.line((px, HORIZON, px - 30, 330), fill=(160, 154, 146), width=1)
    draw.rectangle((0, 330, w, 336), fill=(120, 120, 120))  # kerb
    draw.rectangle((0, 336, w, h), fill=(86, 89, 94))  # road
    for lx in range(20, w, 120):
        draw.rectangle((lx, 405, lx + 60, 411), fill=(235, 235, 225))


def _litter(draw: ImageDraw.ImageDraw, rng: random.Random, problem: bool) -> None:
    if not problem:
        draw.rectangle((470, 262, 510, 322), fill=(38, 120, 70))  # a bin, the pavement clean
        draw.rectangle((466, 256, 514, 264), fill=(28, 90, 52))
        return
    colours = ((60, 60, 62), (40, 110, 170), (200, 200, 196), (150, 110, 60), (90, 140, 60))
    for _ in range(26):
        cx, cy = rng.randint(180, 430), rng.randint(275, 325)
        r = rng.randint(10, 24)
        draw.ellipse((cx - r, cy - r * 0.8, cx + r, cy + r * 0.6), fill=rng.choice(colours))


def _structure(draw: ImageDraw.ImageDraw, rng: random.Random, problem: bool) -> None:
    if problem:
        draw.rectangle((160, 200, 330, 320), fill=(90, 120, 150))  # a blue steel shed
        draw.polygon(((150, 200), (340, 200), (320, 176), (170, 176)), fill=(60, 90, 130))
        draw.rectangle((230, 250, 270, 320), fill=(50, 60, 70))


def _posters(draw: ImageDraw.ImageDraw, rng: random.Random, problem: bool) -> None:
    draw.rectangle((290, 150, 302, 330), fill=(100, 100, 100))  # a pole
    if problem:
        for _ in range(14):
            x, y = rng.randint(40, 600), rng.randint(150, 240)
            fill = rng.choice(((250, 250, 240), (255, 220, 90), (240, 120, 110)))
            draw.rectangle((x, y, x + 20, y + 26), fill=fill)
            draw.line((x + 3, y + 8, x + 17, y + 8), fill=(60, 60, 60))


def _site(draw: ImageDraw.ImageDraw, rng: random.Random, problem: bool) -> None:
    draw.rectangle((60, 230, 580, 320), fill=(40, 110, 200))  # the hoarding
    for x in range(60, 580, 52):
        draw.line((x, 230, x, 320), fill=(230, 230, 230), width=2)
    if problem:
        for _ in range(40):  # dust
            cx, cy, r = rng.randint(80, 560), rng.randint(120, 240), rng.randint(16, 40)
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(196, 180, 150))
    else:
        draw.rectangle((60, 212, 580, 230), fill=(40, 140, 80))  # dust net on top


def _water(draw: ImageDraw.ImageDraw, rng: random.Random, problem: bool) -> None:
    if problem:
        draw.ellipse((80, 340, 560, 470), fill=(110, 140, 160))
        for _ in range(12):
            x, y = rng.randint(120, 520), rng.randint(360, 450)
            draw.arc((x, y, x + 40, y + 10), 0, 180, fill=(200, 220, 230), width=2)


def _road(draw: ImageDraw.ImageDraw, rng: random.Random, problem: bool) -> None:
    if problem:
        draw.ellipse((230, 380, 410, 450), fill=(40, 36, 34))
        draw.line((180, 400, 240, 410, 300, 395), fill=(30, 30, 30), width=3)
        _cones(draw, (200, 440))
    else:
        draw.rectangle((230, 380, 410, 450), fill=(60, 62, 66))  # a fresh patch


def _hazard(draw: ImageDraw.ImageDraw, rng: random.Random, problem: bool) -> None:
    if problem:
        _cones(draw, (160, 290, 420, 520))
        draw.line((150, 300, 540, 300), fill=(230, 60, 40), width=4)


def _cones(draw: ImageDraw.ImageDraw, xs: tuple[int, ...]) -> None:
    for x in xs:
        draw.polygon(((x, 260 + 60), (x + 30, 260 + 60), (x + 15, 260 + 10)), fill=(240, 110, 30))
        draw.rectangle((x + 7, 290, x + 23, 296), fill=(250, 250, 250))


def _vendor(draw: ImageDraw.ImageDraw, rng: random.Random, problem: bool) -> None:
    if problem:
        for x in (120, 330):
            draw.pieslice((x, 180, x + 170, 260), 180, 360, fill=(220, 70, 60))
            draw.line((x + 85, 220, x + 85, 320), fill=(80, 80, 80), width=4)
            draw.rectangle((x + 20, 280, x + 150, 320), fill=(150, 110, 70))
            for fx in range(x + 28, x + 140, 22):
                draw.ellipse(
                    (fx, 268, fx + 16, 284), fill=rng.choice(((240, 180, 40), (90, 160, 60)))
                )


def _parking(draw: ImageDraw.ImageDraw, rng: random.Random, problem: bool) -> None:
    y = 300 if problem else 392  # on the pavement, or parked on the road
    for x, colour in ((90, (200, 40, 40)), (330, (230, 230, 230))):
        draw.rounded_rectangle((x, y - 44, x + 190, y), radius=10, fill=colour)
        draw.rounded_rectangle((x + 36, y - 76, x + 150, y - 40), radius=10, fill=colour)
        draw.rectangle((x + 48, y - 70, x + 140, y - 46), fill=(150, 190, 215))
        for wx in (x + 36, x + 150):
            draw.ellipse((wx - 16, y - 16, wx + 16, y + 16), fill=(30, 30, 30))


def _manhole(draw: ImageDraw.ImageDraw, rng: random.Random, problem: bool) -> None:
    draw.ellipse((240, 380, 400, 450), fill=(20, 20, 22) if problem else (70, 70, 74))
    if problem:
        draw.polygon(((300, 384), (360, 392), (336, 418)), fill=(110, 110, 112))  # a shard
        _cones(draw, (200, 420))
    else:
        draw.ellipse((252, 386, 388, 444), outline=(120, 120, 124), width=3)


def _lamp(draw: ImageDraw.ImageDraw, rng: random.Random, problem: bool) -> None:
    angle = 24 if problem else 0
    draw.line((320, 330, 320 + angle, 120), fill=(70, 80, 90), width=8)
    draw.rectangle((300 + angle, 110, 370 + angle, 124), fill=(70, 80, 90))
    glass = (120, 120, 110) if problem else (255, 240, 170)
    draw.ellipse((350 + angle, 118, 378 + angle, 134), fill=glass)


def _bin(draw: ImageDraw.ImageDraw, rng: random.Random, problem: bool) -> None:
    if problem:
        draw.polygon(((260, 300), (340, 320), (330, 290), (250, 270)), fill=(38, 120, 70))
        _litter(draw, rng, True)
    else:
        _litter(draw, rng, False)


_PAINTERS = {
    "litter": _litter,
    "structure": _structure,
    "posters": _posters,
    "site": _site,
    "water": _water,
    "road": _road,
    "hazard": _hazard,
    "vendor": _vendor,
    "parking": _parking,
    "manhole": _manhole,
    "lamp": _lamp,
    "bin": _bin,
}


def _label(draw: ImageDraw.ImageDraw, motif_label: str, state: State) -> None:
    """The caption no one can miss: 示意图 (synthetic), what it shows and when."""
    w, h = SIZE
    when = {"before": "处置前", "after": "处置后", "camera": "抓拍"}[state]
    draw.rectangle((0, h - 58, w, h), fill=(0, 0, 0))
    draw.text((14, h - 52), "示意图", font=_font(34), fill=(255, 214, 64))
    draw.text(
        (136, h - 46),
        f"{motif_label} · {when} · 演示数据，非真实照片",
        font=_font(22),
        fill=(255, 255, 255),
    )
