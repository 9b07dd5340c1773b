"""The report page: its figures' labels do not overlap (checked on matplotlib's layout), and in a real
headless browser (Chromium) the page loads and every figure decodes, each shown once, none over another."""

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from matplotlib.backends.backend_agg import FigureCanvasAgg

from topo_opt.cli import main
from topo_opt.io import read_json
from topo_opt.report import report_figures

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "results" / "ubmesh-pod1024.json"  # every stage ran: all six figures, in seconds
CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
EXPECTED = {"floor", "headroom", "lanes", "cables", "collectives", "bom"}

CHECK_SCRIPT = """<script>
window.addEventListener('load', () => {
  const images = [...document.images].map(i => ({alt: i.alt, width: i.naturalWidth, height: i.naturalHeight,
                                                  top: i.getBoundingClientRect().top,
                                                  bottom: i.getBoundingClientRect().bottom}));
  const pre = document.createElement('pre');
  pre.id = 'topo-check';
  pre.textContent = JSON.stringify(images);
  document.body.appendChild(pre);
});
</script>"""


def _overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


@pytest.mark.parametrize("name", ["ubmesh-pod1024", "atlas950-superpod"])  # the latter scores 32 and 64 MiB
def test_report_has_every_figure_with_units_and_no_overlapping_labels(name):
    figures = report_figures(read_json(ROOT / "results" / f"{name}.json"))
    assert {stem for stem, _, _ in figures} == EXPECTED
    for stem, title, figure in figures:
        assert re.search(r"\((kW|m|lanes|count|GB/s|M USD)", title), title  # a unit in every heading
        renderer = FigureCanvasAgg(figure).get_renderer()
        figure.draw(renderer)
        for ax in figure.axes:
            for axis in (ax.xaxis, ax.yaxis):
                boxes = [t.get_window_extent(renderer) for t in axis.get_ticklabels(which="both") if t.get_text()]
                for i, a in enumerate(boxes):
                    assert not any(_overlap(a, b) for b in boxes[i + 1:]), f"{stem}: tick labels overlap"
            title_box = ax.title.get_window_extent(renderer)
            ticks = [t.get_window_extent(renderer) for t in ax.get_xticklabels() + ax.get_yticklabels()
                     if t.get_text()]
            assert not any(_overlap(title_box, t) for t in ticks), f"{stem}: title over tick labels"


def test_floor_title_quotes_the_key_figures_stage():
    result = read_json(ROOT / "results" / "atlas950-superpod.json")
    floor = next(f for stem, _, f in report_figures(result) if stem == "floor")
    title = floor.axes[0].get_title(loc="left")
    bom = result["provisioning"]["bom"]
    assert f"{bom['optical_modules']:,} optical modules" in title.splitlines()[-1]
    assert title.splitlines()[-1].startswith("provisioning BOM")
    assert title.splitlines()[1].startswith("placement stage")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium; .ci/run does)")
def test_report_page_loads_in_chromium_and_every_image_decodes(tmp_path):
    out = tmp_path / "report"
    run = CliRunner().invoke(main, ["report", str(RESULT), "--out", str(out)])
    assert run.exit_code == 0, run.output
    page = (out / "index.html").read_text(encoding="utf-8")
    check = out / "check.html"
    check.write_text(page.replace("</body>", CHECK_SCRIPT + "</body>"), encoding="utf-8")
    proc = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000",
                           "--window-size=1280,2000", "--dump-dom", check.as_uri()],
                          capture_output=True, text=True, timeout=120)
    found = re.search(r'<pre id="topo-check">(.*?)</pre>', proc.stdout, re.S)
    assert found, f"the page did not finish loading: {proc.stderr[-1000:]}"
    images = json.loads(html.unescape(found.group(1)))
    assert len(images) == len(EXPECTED) == len({i["alt"] for i in images})  # each figure once
    assert all(i["width"] > 0 and i["height"] > 0 for i in images), images
    ordered = sorted(images, key=lambda i: i["top"])
    assert all(a["bottom"] <= b["top"] for a, b in zip(ordered, ordered[1:], strict=False)), "figures overlap"
