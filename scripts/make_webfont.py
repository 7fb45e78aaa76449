"""Build the wall's own CJK web font: Noto Sans CJK SC cut down to GB 2312 (6,763 hanzi,
punctuation, full-width forms) plus ASCII, as WOFF2 in assets/fonts/.

Kiosk browsers may run on machines without Chinese fonts; the app serves this font itself
(no CDN). Run once with fontTools and brotli installed, from a machine with fonts-noto-cjk:

    python scripts/make_webfont.py
"""

from __future__ import annotations

from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

SOURCES = {
    "regular": "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "bold": "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
}
SC_INDEX = 2  # Noto Sans CJK SC inside the collection
OUT = Path(__file__).resolve().parent.parent / "assets" / "fonts"


def gb2312_text() -> str:
    chars = []
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                chars.append(bytes([high, low]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return "".join(chars) + "".join(chr(c) for c in range(0x20, 0x7F)) + "·—…“”‘’《》【】￥"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    text = gb2312_text()
    for weight, path in SOURCES.items():
        font = TTCollection(path).fonts[SC_INDEX]
        options = subset.Options()
        options.flavor = "woff2"
        options.layout_features = ["*"]
        options.name_IDs = ["*"]
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=text)
        subsetter.subset(font)
        target = OUT / f"NotoSansSC-GB2312-{weight}.woff2"
        font.flavor = "woff2"
        font.save(target)
        print(f"{target.name}: {target.stat().st_size / 1024:.0f} KiB, {len(text)} characters")


if __name__ == "__main__":
    main()
