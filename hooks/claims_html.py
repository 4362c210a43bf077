"""How a claim looks on the site: HTML blocks, the claims table, and the status fragments.

A claim block carries its math as ``.arithmatex`` elements (typeset by katex_hook.py) and leaves its
status as placeholders, ``<span class="claim-status" data-claim=ID data-part=PART></span>``, filled in
once the checker's report is in (``fill_status``), so that checking and notebook execution overlap.
"""

from __future__ import annotations

import html
import posixpath
import re

from claims_words import LABELS, scope_words

_MATH_OR_CODE = re.compile(r"(?<!\\)\$(.+?)(?<!\\)\$|`([^`]+)`")
#: Above about this many symbols, a statement is set on two lines (lhs, then "= rhs").
STATEMENT_WIDTH = 52
PLACEHOLDER = re.compile(r'<span class="claim-status" data-claim="([^"]*)" data-part="(\w+)"></span>')
_PENDING_BLOCK = re.compile(r'class="admonition claim" data-claim="([^"]+)"')


def anchor(claim_id: str) -> str:
    """The element id of a claim's block on its page: claim-entropy-definition."""
    return "claim-" + re.sub(r"[^a-z0-9]+", "-", claim_id.lower()).strip("-")


def tex_inline(tex: str) -> str:
    return f'<span class="arithmatex">\\({html.escape(tex, quote=False)}\\)</span>'


def tex_block(tex: str) -> str:
    return f'<div class="arithmatex">\\[{html.escape(tex, quote=False)}\\]</div>'


def prose(text: str) -> str:
    """Plain text as HTML, with ``$...$`` as inline math and ``...`` in backticks as code."""
    out, last = [], 0
    for m in _MATH_OR_CODE.finditer(text):
        out.append(html.escape(text[last : m.start()]))
        out.append(tex_inline(m.group(1)) if m.group(1) is not None else f"<code>{html.escape(m.group(2))}</code>")
        last = m.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


def _width(tex: str) -> int:
    """A rough count of the symbols TeX will set: commands count 1, braces and sizing count 0."""
    tex = re.sub(r"\\(left|right|displaystyle|operatorname)\b", "", tex)
    tex = re.sub(r"\\[a-zA-Z]+", "x", tex)
    return len(re.sub(r"[{}\s^_]", "", tex))


def statement(entry: dict) -> str:
    """``lhs rel rhs`` on one line, or, when that would not fit a page, rhs on a second line."""
    if _width(entry["lhs"]) + _width(entry["rhs"]) <= STATEMENT_WIDTH:
        return entry["statement"]
    return rf"\begin{{aligned}}&{entry['lhs']}\\&\qquad {entry['relation']} {entry['rhs']}\end{{aligned}}"


def placeholder(claim_id: str, part: str) -> str:
    return f'<span class="claim-status" data-claim="{html.escape(claim_id)}" data-part="{part}"></span>'


def _chain(entry: dict, lang: str) -> str:
    """lhs, then one row per step: relation, expression, justification (an aligned chain)."""
    display = r"\displaystyle "
    rows = [f'<tr><td class="claim-lhs" colspan="3">{tex_inline(display + entry["lhs"])}</td></tr>']
    for step in entry["steps"]:
        why = prose(step["why"])
        if step["declared"]:
            fact, word = html.escape(step["declared"]), LABELS[lang]["declared"]
            why += f' <span class="claim-declared" title="{fact}">{word}</span>'
        rows.append(
            f'<tr><td class="claim-rel">{tex_inline(step["rel"])}</td>'
            f'<td class="claim-expr">{tex_inline(display + step["tex"])}</td>'
            f'<td class="claim-why">{why}</td></tr>'
        )
    columns = '<colgroup><col class="claim-rel"><col class="claim-expr"><col class="claim-why"></colgroup>'
    return f'<div class="claim-chain"><table class="claim-chain-table">{columns}{"".join(rows)}</table></div>'


def localized(entry: dict, lang: str) -> dict:
    """The entry with its texts in ``lang`` (from derivations/i18n/), and ``translation`` saying how current."""
    if lang == "en":
        return {**entry, "translation": None}
    tr = (entry.get("translations") or {}).get(lang) or {"problems": ["missing"]}
    problems = tr["problems"]
    if not problems:
        state = None
    elif all(p.startswith("stale") for p in problems):
        state = "stale"
    else:
        state = "untranslated"
    if state == "untranslated":
        return {**entry, "translation": state}
    steps = [{**st, "why": why} for st, why in zip(entry.get("steps") or [], tr["steps"], strict=True)]
    return {
        **entry,
        "title": tr["title"],
        "assumptions": tr["assumptions"],
        "declared": tr["declared"],
        "steps": steps,
        "translation": state,
    }


def claim_block(entry: dict, home: bool, folded: bool = False, lang: str = "en") -> str:
    """Raw HTML (no blank lines, so Markdown keeps it whole) for one exported claim.

    ``home``: the block is on the claim's own page and carries its anchor. ``folded``: the derivation
    starts closed. ``lang``: the edition, whose fixed labels and claim texts (derivations/i18n/) it shows.
    """
    words, entry = LABELS[lang], localized(entry, lang)
    cid = entry["id"]
    ident = f' id="{anchor(cid)}"' if home else ""
    note = ""
    if entry["translation"]:
        state = entry["translation"]
        note = f' <span class="claim-translation claim-translation--{state}">{words[state]}</span>'
    parts = [
        f'<div class="admonition claim" data-claim="{html.escape(cid)}"{ident}>',
        f'<p class="admonition-title"><span class="claim-title">{prose(entry["title"])}</span> '
        f'<code class="claim-id">{html.escape(cid)}</code> {placeholder(cid, "badge")}{note}</p>',
    ]
    if entry["error"]:
        parts.append(f'<p class="claim-error">{words["no_build"]} <code>{html.escape(entry["error"])}</code></p>')
    else:
        parts.append(tex_block(statement(entry)))
        count = len(entry["steps"])
        state = "" if folded else " open"
        shown_for = scope_words(entry["shown_for"], lang)
        summary_text = words["derivation"].format(shown_for=shown_for, count=count, plural="s" if count != 1 else "")
        parts.append(
            f'<details class="claim-steps"{state}><summary>{summary_text}</summary>{_chain(entry, lang)}</details>'
        )
    facts = [(words["checked"], placeholder(cid, "checked"))]
    facts.append(
        (words["assumptions"], "<ul>" + "".join(f"<li>{prose(a)}</li>" for a in entry["assumptions"]) + "</ul>")
    )
    facts.append((words["sympy"], ", ".join(f"<code>{html.escape(a)}</code>" for a in entry["sympy_assumptions"])))
    if entry["declared"]:
        items = "".join(f"<li>{prose(d)}</li>" for d in entry["declared"])
        facts.append((words["declared_links"], f"<p>{words['declared_intro']}</p><ul>{items}</ul>"))
    facts.append((words["source"], f"<code>{html.escape(entry['source'])}</code>"))
    parts.append('<dl class="claim-facts">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>")
    parts.append("</div>")
    return "\n".join(parts)


def claims_table(entries: list[dict], page_uri: str, lang: str = "en") -> str:
    """A Markdown table of every claim (links validated by MkDocs), status cells left as placeholders."""
    lines = [
        placeholder("", "summary"),
        "",
        LABELS[lang]["table"],
        "| --- | --- | --- | --- | ---: |",
    ]
    here = posixpath.dirname(page_uri)
    for e in entries:
        link = posixpath.relpath(e["page"], here or ".") if e["page"] else ""
        name = f"[`{e['id']}`]({link}#{anchor(e['id'])})" if link else f"`{e['id']}`"
        title = html.escape(localized(e, lang)["title"]).replace("|", "&#124;")
        cells = [f'{name}<br><span class="claim-table-title">{title}</span>']
        cells += [placeholder(e["id"], p) for p in ("scope", "method", "badge", "seconds")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _badge(result: dict | None, lang: str) -> str:
    words = LABELS[lang]
    if result is None:
        return f'<span class="claim-badge claim-badge--unchecked">{words["unchecked"]}</span>'
    if result["holds"]:
        return f'<span class="claim-badge claim-badge--verified">{words["verified"]}</span>'
    return f'<span class="claim-badge claim-badge--failed">{words["failed"]}</span>'


def _checked(result: dict | None, lang: str) -> str:
    words = LABELS[lang]
    if result is None:
        return words["unreported"]
    scope, method = html.escape(scope_words(result["scope"], lang)), html.escape(scope_words(result["method"], lang))
    text = words["holds"].format(scope=scope, method=method, seconds=result["seconds"])
    f = result.get("failure")
    if not result["holds"] and f:
        text = words["failure"].format(
            scope=html.escape(scope_words(f["scope"], lang)),
            step=f["step"],
            why=prose(f["why"]),
            remained=f"<code>{html.escape(f['remained'])}</code>",
            method=method,
        )
    return text


def fill_status(output: str, report: dict | None, lang: str = "en") -> str:
    """Replace the status placeholders of a built page with what the checker's report says."""
    results = {c["id"]: c for c in (report or {}).get("claims", [])}

    def part(m: re.Match) -> str:
        cid, what = html.unescape(m.group(1)), m.group(2)
        r = results.get(cid)
        if what == "summary":
            return summary(report, lang)
        if what == "badge":
            return _badge(r, lang)
        if what == "checked":
            return _checked(r, lang)
        if r is None:
            return "&ndash;"
        if what == "seconds":
            return f"{r['seconds']:.2f}"
        return html.escape(scope_words(str(r[what]), lang))

    def block(m: re.Match) -> str:
        r = results.get(html.unescape(m.group(1)))
        kind = "success" if r and r["holds"] else "failure"
        return f'class="admonition claim {kind}" data-claim="{m.group(1)}"'

    return PLACEHOLDER.sub(part, _PENDING_BLOCK.sub(block, output))


def summary(report: dict | None, lang: str = "en") -> str:
    words = LABELS[lang]
    if not report:
        return f'<span class="claim-summary claim-summary--failed">{words["no_report"]}</span>'
    claims = report["claims"]
    held = sum(c["holds"] for c in claims)
    kind = "verified" if held == len(claims) else "failed"
    text = words["summary"].format(
        held=held, total=len(claims), sympy=html.escape(report["sympy"]), seconds=report["seconds"]
    )
    return f'<span class="claim-summary claim-summary--{kind}">{text}</span>'
