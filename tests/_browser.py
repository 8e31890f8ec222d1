"""Headless-Chromium checks of built book pages, without a browser-automation dependency.

For each page, a copy `<name>.__check__.html` is written beside it (so that its relative URLs keep
working) with a script that runs after `load`, inspects the rendered page and writes a JSON report
into `<pre id="__checks__">`; `chromium --dump-dom` prints the DOM, from which the report is read.

The report holds:
  tables  the tables of the article that do not fit: wider than the content box of a block ancestor
          inside the article column (the article included), or inside a scrolling / clipping wrapper
          whose content is wider than the wrapper (the reader has to scroll);
  images  every <img> of the page: whether it loaded (`complete && naturalWidth > 0`) and its alt
          text (required, and not just a file name: myst-nb's default alt is the image's path);
  stderr  the rendered stderr / traceback outputs (myst-nb's `div.output.stderr` and
          `div.output.traceback`, plus the classic notebook's `.stderr` / `.output_stderr`
          class names), and the output areas (`.cell_output`; prose is never looked at) whose
          text holds a traceback or a warning as Python prints it: `file.py:12: UserWarning: `,
          the echoed `warnings.warn(` line, logging's `WARNING:name:` or a line starting
          `Warning: `. A notebook's own summary of recorded warnings (e.g. 02_benchmark's
          "  CausalMixFallbackWarning: 1 in 1 runs") is deliberately not matched;
  traceback_in_text  whether the page's visible text holds "Traceback (most recent call last)".
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import time
from pathlib import Path

MARKER = "__checks__"
SUFFIX = ".__check__.html"

# Runs in the page; writes the report into <pre id="__checks__"> once the page and its images loaded.
SCRIPT = r"""
(function () {
  const short = (s, n) => { s = (s || '').replace(/\s+/g, ' ').trim(); return s.length > n ? s.slice(0, n - 1) + '…' : s; };
  const px = (v) => parseFloat(v) || 0;
  const describe = (el) => short(el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).trim().split(/\s+/).join('.') : ''), 80);
  function contentWidth(el) {
    const cs = getComputedStyle(el);
    return el.clientWidth - px(cs.paddingLeft) - px(cs.paddingRight);
  }
  function tableLabel(t) {
    const cap = t.querySelector('caption');
    if (cap && cap.innerText.trim()) return 'caption "' + short(cap.innerText, 80) + '"';
    const row = t.querySelector('thead tr') || t.querySelector('tr');
    const cells = row ? Array.from(row.querySelectorAll('th,td')).map(c => short(c.innerText, 30)).filter(Boolean) : [];
    return 'header [' + short(cells.slice(0, 6).join(' | '), 80) + ']' + (t.id ? ' #' + t.id : '');
  }
  function imgSrc(img) {
    const src = img.getAttribute('src') || '';
    return src.startsWith('data:') ? src.slice(0, Math.max(src.indexOf(','), 0) + 1) + '…(' + src.length + ' chars)' : short(src, 80);
  }
  const blockDisplays = ['block', 'flow-root', 'flex', 'grid', 'list-item', 'inline-block'];
  async function report() {
    const article = document.querySelector('.bd-article') || document.querySelector('article') || document.querySelector('main');
    // Images below the fold or lazy ones: ask for them now and wait (bounded) for each to settle.
    // Collapsed tables must fit too once the reader opens them.
    document.querySelectorAll('details').forEach(d => { d.open = true; });
    const imgs = Array.from(document.images);
    await Promise.all(imgs.map(img => {
      img.loading = 'eager';
      if (img.complete) return Promise.resolve();
      return new Promise(res => { img.addEventListener('load', res); img.addEventListener('error', res); setTimeout(res, 5000); });
    }));
    const out = {
      url: location.pathname.split('/').slice(-3).join('/'),
      window: [innerWidth, innerHeight],
      article: article ? {selector: article.className || article.tagName, content_width: contentWidth(article)} : null,
      page_scroll_width: [document.documentElement.scrollWidth, document.documentElement.clientWidth],
      tables: [], images: [], stderr: [], traceback_in_text: false,
    };
    for (const t of (article ? article.querySelectorAll('table') : [])) {
      const width = t.getBoundingClientRect().width;
      const problems = [];
      for (let el = t.parentElement; el; el = el.parentElement) {
        const cs = getComputedStyle(el);
        if (blockDisplays.includes(cs.display)) {
          const cw = contentWidth(el);
          if (width > cw + 1) problems.push({container: describe(el), kind: 'wider', by: Math.round(width - cw), table: Math.round(width), container_width: Math.round(cw)});
          if (['auto', 'scroll', 'hidden', 'clip'].includes(cs.overflowX) && el.scrollWidth > el.clientWidth + 1)
            problems.push({container: describe(el), kind: 'scrolls', by: el.scrollWidth - el.clientWidth, table: Math.round(width), container_width: el.clientWidth});
        }
        if (el === article) break;
      }
      // What a reader can reach: a table in a box that scrolls (overflow auto/scroll) can be scrolled to; one
      // cut by an ancestor that hides its overflow, or running off the window without such a box, is clipped.
      let scrollBox = null, clippedBy = null;
      for (let el = t.parentElement; el && el !== document.body; el = el.parentElement) {
        const cs = getComputedStyle(el);
        if (['auto', 'scroll'].includes(cs.overflowX)) { scrollBox = scrollBox || el; }
        else if (['hidden', 'clip'].includes(cs.overflowX) && !scrollBox && t.getBoundingClientRect().right > el.getBoundingClientRect().right + 1)
          clippedBy = clippedBy || describe(el);
      }
      if (!scrollBox && t.getBoundingClientRect().right > innerWidth + 1) clippedBy = clippedBy || 'the window';
      const cells = [];
      for (const c of t.querySelectorAll('th, td')) {
        const cs = getComputedStyle(c);
        if (['hidden', 'clip'].includes(cs.overflowX) && c.scrollWidth > c.clientWidth + 1) cells.push(short(c.innerText, 40));
      }
      out.tables.push({label: tableLabel(t), width: Math.round(width), too_wide: problems.length > 0,
                       by: problems.length ? Math.max(...problems.map(p => p.by)) : 0, problems: problems,
                       scroll_box: scrollBox ? describe(scrollBox) : null, clipped_by: clippedBy, clipped_cells: cells.slice(0, 5)});
    }
    // Captions (of tables and figures) that run past the window or are cut inside their box.
    out.captions = [];
    for (const c of (article ? article.querySelectorAll('caption, figcaption') : [])) {
      const r = c.getBoundingClientRect();
      let inScroll = false;
      for (let el = c.parentElement; el && el !== article; el = el.parentElement)
        if (['auto', 'scroll'].includes(getComputedStyle(el).overflowX)) { inScroll = true; break; }
      if ((!inScroll && r.right > innerWidth + 1) || c.scrollWidth > c.clientWidth + 1)
        out.captions.push({text: short(c.innerText, 80), right: Math.round(r.right), scroll: c.scrollWidth - c.clientWidth});
    }
    // The data behind each notebook table: a CSV download next to it; figures whose legend covers data.
    out.output_tables = article ? article.querySelectorAll('.cell_output .causalmix-table table').length : 0;
    out.downloads = article ? Array.from(article.querySelectorAll('.cell_output a[download]')).map(a => a.getAttribute('download')) : [];
    out.tables_without_download = [];
    for (const box of (article ? article.querySelectorAll('.cell_output .causalmix-table') : [])) {
      const next = box.nextElementSibling;
      if (!next || !next.querySelector('a[download]')) out.tables_without_download.push(tableLabel(box.querySelector('table')));
    }
    out.legend_overlaps = Array.from(document.querySelectorAll('figure[data-legend-overlap]')).map(
      f => short((f.querySelector('figcaption') || f).innerText, 60) + ': ' + f.getAttribute('data-legend-overlap'));
    for (const img of imgs) {
      out.images.push({src: imgSrc(img), alt: img.getAttribute('alt'), loaded: img.complete && img.naturalWidth > 0,
                       size: [img.naturalWidth, img.naturalHeight]});
    }
    const stderrSel = '.output.stderr, .output.traceback, .cell_output .stderr, div.stderr, .output_stderr, [data-mime-type="application/vnd.jupyter.stderr"]';
    const seen = new Set();
    for (const el of document.querySelectorAll(stderrSel)) {
      seen.add(el);
      out.stderr.push({where: describe(el), text: short((el.querySelector('pre') || el).innerText, 300)});
    }
    // Python's warnings module ("file.py:12: UserWarning: ..." and the echoed "warnings.warn(" line),
    // logging's default format ("WARNING:name:...") and a line that starts with "Warning: ".
    const warn = /Traceback \(most recent call last\)|\.py:\d+: \w*Warning: |warnings\.warn\(|(^|\n)WARNING:\S*:|(^|\n)Warning: /;
    for (const el of document.querySelectorAll('.cell_output, .output_area, .jp-OutputArea')) {
      if (seen.has(el) || Array.from(seen).some(s => el.contains(s))) continue;
      const text = el.innerText || '';
      const m = text.match(warn);
      if (m) {
        const i = Math.max(0, m.index - 60);
        out.stderr.push({where: 'a warning in output area ' + describe(el), text: short(text.slice(i, i + 300), 300)});
      }
    }
    out.traceback_in_text = document.body.innerText.includes('Traceback (most recent call last)');
    const pre = document.createElement('pre');
    pre.id = '__checks__';
    pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  }
  addEventListener('load', () => { report().catch(e => {
    const pre = document.createElement('pre'); pre.id = '__checks__';
    pre.textContent = JSON.stringify({script_error: String(e && e.stack || e)}); document.body.appendChild(pre);
  }); });
})();
"""


def instrument(page: Path) -> Path:
    """Write `<page>.__check__.html` beside the page, with the checking script in its <head>."""
    text = page.read_text()
    tag = f"<script>{SCRIPT}</script>"
    text = text.replace("</head>", tag + "</head>", 1) if "</head>" in text else tag + text
    copy = page.with_name(page.stem + SUFFIX)
    copy.write_text(text)
    return copy


def parse_report(dom: str) -> dict | None:
    m = re.search(rf'<pre id="{MARKER}"[^>]*>(.*?)</pre>', dom, re.DOTALL)
    return json.loads(html.unescape(m.group(1))) if m else None


def check_page(browser: str, page: Path, profile: Path, timeout: float = 60, width: int = 1280) -> tuple[dict | None, str]:
    """Render one page in headless Chromium (``width`` px wide: 1280, or 390 for a phone); return
    (report or None, chromium's stderr)."""
    copy = instrument(page)
    try:
        proc = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--window-size={width},2000",
             "--virtual-time-budget=10000", f"--user-data-dir={profile}", "--dump-dom", copy.as_uri()],
            check=False, capture_output=True, text=True, timeout=timeout,
        )
    finally:
        copy.unlink(missing_ok=True)
    return parse_report(proc.stdout), proc.stderr


def check_pages(browser: str, pages: dict[str, Path], profile: Path, width: int = 1280) -> tuple[dict[str, dict | None], dict[str, str], float]:
    """Check every page, one Chromium run each; returns reports, Chromium's stderr per page and seconds."""
    start = time.perf_counter()
    reports, errors = {}, {}
    for name, page in pages.items():
        reports[name], errors[name] = check_page(browser, page, profile, width=width)
    return reports, errors, time.perf_counter() - start


def table_problems(name: str, report: dict) -> list[str]:
    """Tables that do not fit the article column at a 1280 px window, and pages that scroll sideways."""
    found = []
    for t in report["tables"]:
        if t["too_wide"]:
            worst = max(t["problems"], key=lambda p: p["by"])
            scroller = next((p for p in t["problems"] if p["kind"] == "scrolls"), None)
            found.append(f"{name}: table {t['label']} is {t['width']} px wide, {worst['by']} px wider than its "
                         f"{worst['container_width']} px container {worst['container']}"
                         + (f"; the reader has to scroll {scroller['container']} sideways" if scroller
                            else "; it overflows the column"))
    page_width, window_width = report["page_scroll_width"]
    if page_width > window_width + 1:
        found.append(f"{name}: the page scrolls sideways ({page_width} px wide in a {window_width} px window)")
    return found


def image_problems(name: str, report: dict) -> list[str]:
    """Images that did not load, have no alt text, or only their file name (myst-nb's default) as alt text."""
    found = []
    for img in report["images"]:
        alt = (img["alt"] or "").strip()
        if not img["loaded"]:
            found.append(f"{name}: image {img['src']} (alt {alt[:80]!r}) did not load")
        if not alt:
            found.append(f"{name}: image {img['src']} has no alt text")
        elif re.search(r"\.(png|svg|jpe?g|gif|webp)$", alt, re.IGNORECASE) or alt.startswith("data:"):
            found.append(f"{name}: image {img['src']} has only its file name as alt text")
    return found


def output_problems(name: str, report: dict) -> list[str]:
    """Rendered stderr / traceback outputs, warnings in output areas, a traceback anywhere in the text."""
    found = [f"{name}: shows {s['where']}: {s['text']!r}" for s in report["stderr"]]
    if report["traceback_in_text"]:
        found.append(f"{name}: the page's text holds 'Traceback (most recent call last)'")
    return found


def clipping_problems(name: str, report: dict) -> list[str]:
    """What a reader cannot see at any width: tables cut by an ancestor (or running off the window with no
    box that scrolls), cells that hide their overflow, captions that run off the window or are cut."""
    found = []
    for t in report["tables"]:
        if t.get("clipped_by"):
            found.append(f"{name}: table {t['label']} ({t['width']} px) is clipped by {t['clipped_by']} at "
                         f"{report['window'][0]} px")
        for cell in t.get("clipped_cells", []):
            found.append(f"{name}: a cell of table {t['label']} hides part of its text: {cell!r}")
    for c in report.get("captions", []):
        found.append(f"{name}: caption {c['text']!r} runs off at {c['right']} px / is cut by {c['scroll']} px")
    page_width, window_width = report["page_scroll_width"]
    if page_width > window_width + 1:
        found.append(f"{name}: the page scrolls sideways ({page_width} px wide in a {window_width} px window)")
    return found


def download_problems(name: str, report: dict) -> list[str]:
    """Tables of a notebook page without the CSV of their data next to them."""
    return [f"{name}: table {label} has no CSV download next to it" for label in report.get("tables_without_download", [])]


def legend_problems(name: str, report: dict) -> list[str]:
    """Figures whose legend covers plot data (bounding boxes recorded when the figure was drawn)."""
    return [f"{name}: legend covers data in {f}" for f in report.get("legend_overlaps", [])]
