"""Debian's chromium, driven by Playwright, for the tests that look at the pages as a person
does; and the two tools that read a certificate as a person would (pdftoppm renders its page,
zbarimg scans its QR code).

They come from Debian's packages. When one is missing and the tests run as root (CI's case),
they are installed once with apt-get; where that cannot be done, the tests that need them are
skipped and say why, or fail under ``CI=true`` (``tests.support.unavailable``). Playwright
never downloads a browser of its own here: it launches ``/usr/bin/chromium``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.support import unavailable

CHROMIUM = Path("/usr/bin/chromium")
PACKAGES = {"chromium": "chromium", "zbarimg": "zbar-tools", "pdftoppm": "poppler-utils"}
"""Each command the tests run, and the Debian package that brings it."""
APT_TIMEOUT = 900
LAUNCH_FLAGS = ("--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync")
"""Headless chromium as root in a container, with nothing reaching out to the network.
(Playwright adds ``--headless`` and a new empty ``--user-data-dir`` of its own.)"""
PHONE = {"width": 390, "height": 844}
"""A phone's screen in CSS pixels (the common 6.1-inch size)."""


def missing() -> list[str]:
    return [command for command in PACKAGES if shutil.which(command) is None]


def ensure_tools(commands: tuple[str, ...] = tuple(PACKAGES), *,
                 browser: bool = True) -> None:
    """Install what is missing (as root, with apt-get), or skip / fail saying what."""
    absent = [command for command in missing() if command in commands]
    if absent and os.geteuid() == 0 and shutil.which("apt-get"):
        packages = sorted({PACKAGES[command] for command in absent})
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        try:
            subprocess.run(["apt-get", "update", "-q"], check=True, env=env,
                           capture_output=True, timeout=APT_TIMEOUT)
            subprocess.run(["apt-get", "install", "-y", "-q", *packages], check=True,
                           env=env, capture_output=True, timeout=APT_TIMEOUT)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            output = getattr(exc, "stderr", b"") or b""
            unavailable(f"apt-get could not install {', '.join(packages)}: "
                        f"{output.decode(errors='replace')[-300:]}")
        absent = [command for command in missing() if command in commands]
    if absent:
        unavailable(f"{', '.join(absent)} not found (Debian packages "
                    f"{', '.join(PACKAGES[c] for c in absent)}; installed by the tests "
                    "only when they run as root)")
    if not browser:
        return
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        unavailable("the playwright package is not installed (make install)")


def ensure_pdf_tools() -> None:
    """What reads a printed document as a person would: pdftotext and pdftoppm (poppler),
    zbarimg; no browser."""
    ensure_tools(("zbarimg", "pdftoppm"), browser=False)


def pdf_text(pdf: bytes, workdir: Path) -> str:
    """A PDF's text as pdftotext reads it (poppler, the package of pdftoppm), in layout."""
    source = workdir / "text.pdf"
    source.write_bytes(pdf)
    found = subprocess.run(["pdftotext", "-layout", str(source), "-"], check=True,
                           capture_output=True, text=True, timeout=60)
    return found.stdout


def qr_codes_on_pages(pdf: bytes, workdir: Path) -> list[str]:
    """Every QR code of every page (150 dpi), in page order (``workdir``: a folder of its
    own, made if missing)."""
    found: list[str] = []
    for page in _pages(pdf, workdir):
        found += _scan(page)
    return found


def qr_codes_on_stickers(pdf: bytes, workdir: Path) -> list[str]:
    """What a phone reads from each sticker of a label sheet, one sticker at a time (the
    sheet's grid, ``handlers/labels.py``), in page and sticker order. Scanned whole, a page
    of 21 codes close together made zbar miss one or two now and then, as it never would
    with a phone held over one sticker."""
    from PIL import Image

    from handlers.labels import COLUMNS, HEIGHT, LEFT, PITCH_X, ROWS, TOP, WIDTH

    found: list[str] = []
    for page in _pages(pdf, workdir):
        with Image.open(page) as image:
            per_mm = image.width / 210.0  # A4
            for slot in range(COLUMNS * ROWS):
                x = LEFT + (slot % COLUMNS) * PITCH_X
                y = TOP + (slot // COLUMNS) * HEIGHT
                box = tuple(round(v * per_mm) for v in (x, y, x + WIDTH, y + HEIGHT))
                sticker = workdir / f"{page.stem}-s{slot:02d}.png"
                image.crop(box).save(sticker)
                found += _scan(sticker)
    return found


def _pages(pdf: bytes, workdir: Path) -> list[Path]:
    """The pages of ``pdf`` as PNG images at 150 dpi, in order."""
    workdir.mkdir(parents=True, exist_ok=True)
    source = workdir / "pages.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(source), str(workdir / "p")],
                   check=True, timeout=120)
    return sorted(workdir.glob("p-*.png"))


def _scan(image: Path) -> list[str]:
    scanned = subprocess.run(["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable",
                              str(image)], capture_output=True, text=True, timeout=60)
    return scanned.stdout.split()


def qr_codes_on_pdf(pdf: bytes, workdir: Path) -> list[str]:
    """What a phone reads from the printed document: its first page rendered at 150 dpi
    (pdftoppm), then every QR code found on it (zbarimg)."""
    source = workdir / "document.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", "-singlefile",
                    str(source), str(workdir / "page")], check=True, timeout=60)
    scanned = subprocess.run(["zbarimg", "--quiet", "--raw", "-Sdisable",
                              "-Sqrcode.enable", str(workdir / "page.png")],
                             capture_output=True, text=True, timeout=60)
    return scanned.stdout.split()


READABILITY = """() => {
  const luminance = (rgb) => {
    const [r, g, b] = rgb.match(/[\\d.]+/g).slice(0, 3).map(Number).map((v) => {
      v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const bg = getComputedStyle(e).backgroundColor;
      if (!/rgba\\(.*,\\s*0\\)$/.test(bg) && bg !== 'transparent') return bg;
    }
    return 'rgb(255, 255, 255)';
  };
  const contrast = (el) => {
    const a = luminance(getComputedStyle(el).color), b = luminance(background(el));
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  };
  const texts = [...document.querySelectorAll('body *')].filter((el) =>
    [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()) &&
    el.getClientRects().length);
  const worst = texts.map((el) => [contrast(el), el.tagName + ' ' + el.textContent.trim()
    .slice(0, 40)]).sort((x, y) => x[0] - y[0])[0];
  return {
    lang: document.documentElement.lang,
    overflow: document.documentElement.scrollWidth - window.innerWidth,
    fontSize: parseFloat(getComputedStyle(document.body).fontSize),
    worstContrast: worst ? worst[0] : 21, worstText: worst ? worst[1] : '',
    unlabelled: [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
      .filter((el) => !el.labels || el.labels.length === 0).map((el) => el.name),
    noAlt: [...document.querySelectorAll('img')].filter((img) => !img.alt).length,
    h1: document.querySelectorAll('h1').length,
  };
}"""
"""What makes a page readable on a phone, measured in the browser: its language, no sideways
scrolling, text size, the weakest contrast of any text (WCAG's formula), form fields without
a label, images without a text alternative, one main heading."""
