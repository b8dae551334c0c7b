"""The HTML kit of the report pages: one stylesheet, two small scripts, escaping and
formatting. Everything inserted into a page goes through :func:`esc`."""

from __future__ import annotations

import html
import math
from typing import Any

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:0;
 color:#222;background:#fafafa}
main{max-width:1120px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:1.6em;margin:.4em 0 .1em}h2{font-size:1.25em;border-bottom:1px solid #ddd;
 padding-bottom:4px;margin-top:1.6em}
.sub{color:#666;margin:0 0 1em}
pre{background:#f0f0f0;padding:10px;overflow:auto;font-size:12px;border-radius:4px}
code{background:#f0f0f0;padding:1px 4px;border-radius:3px}
img{max-width:100%;height:auto;display:block;margin:8px 0}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:right}
th{background:#eee;cursor:default}td:first-child,th:first-child{text-align:left}
table.sortable th{cursor:pointer}table.sortable th:hover{background:#ddd}
.ok{background:#e8f5e9;border-left:4px solid #43a047;padding:8px 12px}
.na{background:#eee;border-left:4px solid #999;padding:8px 12px}
.fail{background:#fdecea;border-left:4px solid #d62728;padding:8px 12px;margin:8px 0}
.fail h3{margin:0 0 4px;font-size:1.05em}
.player{background:#fff;border:1px solid #ddd;padding:8px;border-radius:4px}
.player .frame{display:none}.player .frame.on{display:block}
.controls{display:flex;gap:10px;align-items:center}
.grid{display:flex;flex-wrap:wrap;gap:8px}.grid figure{margin:0;flex:1 1 300px}
figcaption{font-size:12px;color:#555;text-align:center}
details summary{cursor:pointer;color:#444}
.scroll{overflow-x:auto}td.l{text-align:left}
img.pix,.pix img{image-rendering:pixelated}
.strip{display:flex;flex-wrap:wrap;gap:10px;align-items:flex-end}.strip figure{margin:0}
.strip img{margin:2px auto}
"""

PLAYER_JS = """
document.querySelectorAll('.player').forEach(function(p){
  var frames=p.querySelectorAll('.frame'),slider=p.querySelector('input'),
      btn=p.querySelector('button'),label=p.querySelector('.step'),i=frames.length-1,
      timer=null;
  function show(k){frames[i].classList.remove('on');i=(k+frames.length)%frames.length;
    frames[i].classList.add('on');slider.value=i;label.textContent=frames[i].dataset.step;}
  slider.max=frames.length-1;
  slider.oninput=function(){show(parseInt(slider.value,10));};
  btn.onclick=function(){if(timer){clearInterval(timer);timer=null;btn.textContent='play';}
    else{timer=setInterval(function(){show(i+1);},600);btn.textContent='pause';}};
});
"""

SORT_JS = """
document.querySelectorAll('table.sortable').forEach(function(t){
  t.querySelectorAll('th').forEach(function(th,col){th.title='click to sort';
    th.onclick=function(){var body=t.tBodies[0],rows=Array.from(body.rows),
      asc=th.dataset.dir!=='asc';th.dataset.dir=asc?'asc':'desc';
      function key(r){var c=r.cells[col],v=c.dataset.v!==undefined?c.dataset.v:c.textContent;
        var n=parseFloat(v);return isNaN(n)?v:n;}
      rows.sort(function(a,b){var x=key(a),y=key(b);
        if(typeof x!==typeof y){x=String(x);y=String(y);}
        return (x<y?-1:x>y?1:0)*(asc?1:-1);});
      rows.forEach(function(r){body.appendChild(r);});};});
});
"""


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def fmt(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return f"{value:.4g}"
    return str(value)


def img(uri: str, alt: str) -> str:
    return f'<img src="{uri}" alt="{esc(alt)}">'


def page(title: str, body: str, scripts: tuple[str, ...] = ()) -> str:
    script = "".join(f"<script>{s}</script>" for s in scripts)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head>"
        f"<body><main>{body}</main>{script}</body></html>\n"
    )


def pixel_img(uri: str, alt: str, width: int) -> str:
    """A small image (a grid of generated images) drawn ``width`` CSS pixels wide, its pixels
    kept sharp."""
    return f'<img class="pix" src="{uri}" alt="{esc(alt)}" style="width:{int(width)}px">'


def figure(image: str, caption: str) -> str:
    return f"<figure>{image}<figcaption>{esc(caption)}</figcaption></figure>"


def player_html(frames: list[tuple[int, str]], alt: str, width: int | None = None) -> str:
    """An animation of ``(step, uri)`` frames (`PLAYER_JS`); with ``width`` the frames are drawn
    that many CSS pixels wide, pixels kept sharp (grids of small images)."""
    size = f' style="width:{int(width)}px"' if width else ""
    imgs = "".join(
        f'<img class="frame{" on" if i == len(frames) - 1 else ""}" data-step="{step}" '
        f'src="{uri}" alt="{esc(alt)} at step {step}"{size}>'
        for i, (step, uri) in enumerate(frames)
    )
    return (
        f'<div class="player{" pix" if width else ""}">{imgs}<div class="controls">'
        f'<button type="button">play'
        f'</button><input type="range" min="0" max="{len(frames) - 1}" '
        f'value="{len(frames) - 1}" aria-label="frame"><span>step <b class="step">'
        f"{frames[-1][0]}</b></span></div></div>"
    )


def fmt_value(value: Any, most: int = 12) -> str:
    """`fmt`, lists item by item (a long list shortened, its length given)."""
    if isinstance(value, (list, tuple)):
        items = ", ".join(fmt(v) for v in value[:most])
        return f"[{items}{', ...' if len(value) > most else ''}]" + (
            f" ({len(value)} values)" if len(value) > most else ""
        )
    return fmt(value)


def metrics_table(metrics: dict) -> str:
    rows = "".join(
        f"<tr><td>{esc(k)}</td><td>{esc(fmt_value(v))}</td></tr>"
        for k, v in sorted(metrics.items())
    )
    return (
        f"<table><thead><tr><th>metric</th><th>value</th></tr></thead><tbody>{rows}</tbody></table>"
    )
