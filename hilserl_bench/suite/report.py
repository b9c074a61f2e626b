"""The suite's static one-page HTML report: the table beside the paper's, plots and videos, written atomically.

Every plot and video is referenced by a path relative to the report, so the folder can be
moved or committed as a whole. Render it headless to check it (docs/suite.md)::

    chromium --headless --no-sandbox --screenshot=report.png --window-size=1400,2400 file://$PWD/report.html
"""

from __future__ import annotations

import html
import time
from pathlib import Path

import pandas as pd

STYLE = """body{font-family:sans-serif;margin:1.5em;max-width:1400px}table{border-collapse:collapse;font-size:13px}
td,th{border:1px solid #bbb;padding:3px 7px;text-align:left}th{background:#eee}
.task{display:inline-block;vertical-align:top;margin:0 1em 1.5em 0}img{max-width:720px}video{max-width:560px}
.note{color:#555;font-size:13px}"""


def html_table(frame: pd.DataFrame) -> str:
    """A DataFrame as an escaped HTML table."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape('' if pd.isna(v) else str(v))}</td>" for v in row) + "</tr>"
                   for row in frame.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def write_report(path: Path, title: str, intro: str, sections: list[tuple[str, pd.DataFrame]],
                 media: dict[str, dict[str, Path]], notes: list[str], command: str) -> Path:
    """Write the report at ``path``: ``sections`` are (heading, table); ``media``: task -> {plot, disturbed, video}."""
    from hilserl_bench.rollout import atomic_output

    root = path.parent
    parts = [f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>",
             f"<style>{STYLE}</style></head><body>", f"<h1>{html.escape(title)}</h1>",
             f"<p>{html.escape(intro)}</p>", f"<p class=\"note\">Command: <code>{html.escape(command)}</code>; "
             f"written {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.</p>"]
    for heading, frame in sections:
        parts += [f"<h2>{html.escape(heading)}</h2>", html_table(frame)]
    if notes:
        parts.append("<ul class=\"note\">" + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>")
    if media:
        parts.append("<h2>Learning curves and videos</h2>")
    for task, files in sorted(media.items()):
        parts.append(f"<div class=\"task\"><h3>{html.escape(task)}</h3>")
        if "plot" in files:
            src = html.escape(files["plot"].relative_to(root).as_posix())
            parts.append(f"<img src=\"{src}\" alt=\"{html.escape(task)} learning curves\">")
        if "disturbed" in files:
            src = html.escape(files["disturbed"].relative_to(root).as_posix())
            parts.append(f"<br><img src=\"{src}\" alt=\"{html.escape(task)} under disturbances\">")
        if "video" in files:
            src = html.escape(files["video"].relative_to(root).as_posix())
            parts.append(f"<br><video src=\"{src}\" controls muted loop></video>")
        parts.append("</div>")
    parts.append("</body></html>\n")
    with atomic_output(path) as tmp:
        tmp.write_text("\n".join(parts))
    return path
