"""The report page's fix section: when every failure of the original can be fixed, a button
"自动修复 / Fix automatically" that starts the fix (``POST /api/submissions/{id}/fix``), shows
its progress and ETA from ``GET /api/jobs/{id}``, then the link to the fixed copy. When a fixed
copy exists already, only the link. Pure: data in, HTML out."""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import quote

SCRIPT = """<script>(()=>{const box=document.getElementById('fix'),btn=document.getElementById('fix-start'),
st=document.getElementById('fix-status'),dl=document.getElementById('fix-download'),en=box.dataset.lang==='en',
L=en?'en':'zh-CN',show=t=>{st.textContent=t};
async function poll(url){for(;;){const j=await(await fetch(url)).json();
if(j.state==='finished'&&j.result&&j.result.status==='fixed'){show(en?'Fixed: the new file passes the check.':
'修复完成：新文件已通过检查。');dl.hidden=false;btn.hidden=true;return}
if(['finished','failed','cancelled'].includes(j.state)){
const m=(j.error&&j.error.message)||(j.result&&j.result.reason)||{};
show((en?'Not fixed: ':'未能修复：')+(m[L]||j.state));btn.disabled=false;return}
const d=j.detail||{},p=d.percent!=null?d.percent:Math.round(100*j.progress);
show((en?'Fixing… ':'正在修复…… ')+p+'%'+(d.eta_s!=null?(en?`, about ${Math.ceil(d.eta_s)} s left`:
`，约剩 ${Math.ceil(d.eta_s)} 秒`):''));await new Promise(r=>setTimeout(r,1000))}}
btn.addEventListener('click',async()=>{btn.disabled=true;show(en?'Starting…':'正在开始……');
const r=await fetch(box.dataset.start,{method:'POST'}),b=await r.json();
if(r.status!==202){show(b.message?b.message[L]:r.status);btn.disabled=false;return}poll(b.links.job)})})()</script>"""


def fix_section(sub_id: str, report: dict[str, Any], fixed: dict[str, Any] | None, *, lang: str,
                token: str | None) -> str:
    """The section (empty when there is nothing to offer: no token, no failure, or a failure
    that cannot be fixed and no fixed copy)."""
    en = lang == "en"
    if token is None:
        return ""
    q = f"?token={quote(token, safe='')}"
    download = f"/api/submissions/{escape(sub_id)}/fixed{q}"
    label = "Download the fixed copy" if en else "下载修复后的文件"
    if fixed is not None:
        name = escape(fixed["file_name"])
        return (f'<section id="fix"><p><a id="fix-download" href="{download}">{label}</a> <small>{name}</small>'
                "</p></section>")
    if report.get("verdict") != "fail" or not report.get("fixable"):
        return ""
    start = f"/api/submissions/{escape(sub_id)}/fix{q}"
    button = "Fix automatically" if en else "自动修复"
    hint = ("The original stays as it is; a new file is made and checked again."
            if en else "原文件保持不变；将生成一个新文件并重新检查。")
    return (f'<section id="fix" data-lang="{"en" if en else "zh-CN"}" data-start="{start}">'
            f'<p><button id="fix-start" type="button">{button}</button> <small>{hint}</small></p>'
            f'<p id="fix-status" role="status"></p><p><a id="fix-download" href="{download}" hidden>{label}</a></p>'
            f"</section>{SCRIPT}")
