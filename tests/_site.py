"""Helpers of tests/test_site.py: an HTML parser that collects ids and references, a file server that
logs nothing, and the in-page check of rendered math run in the browser.
"""

from __future__ import annotations

import html.parser
from http.server import SimpleHTTPRequestHandler


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.refs = set(), []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])
        for key in ("href", "src"):
            if a.get(key) is not None and tag in ("a", "link", "script", "img", "source", "iframe"):
                self.refs.append(a[key])


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


_PAGE_CHECK = """(selector) => {
  const containers = [...document.querySelectorAll(selector)];
  const raw = [];
  for (const c of containers) {
    const clone = c.cloneNode(true);
    clone.querySelectorAll('.katex, code, pre, script, style').forEach((e) => e.remove());
    for (const tex of ['$', '\\\\frac', '\\\\sum', '\\\\log', '\\\\(', '\\\\[', '\\\\begin'])
      if (clone.textContent.includes(tex)) raw.push(tex + ' in: ' + clone.textContent.trim().slice(0, 80));
  }
  const unrendered = [...document.querySelectorAll('.arithmatex')].filter((e) => !e.querySelector('.katex'));
  const katex = document.querySelector('.katex');
  return {
    katex: document.querySelectorAll('.katex').length,
    errors: document.querySelectorAll('.katex-error').length,
    unrendered: unrendered.length, raw,
    mathContainers: containers.filter((c) => c.querySelector('.katex')).length,
    font: katex ? getComputedStyle(katex).fontFamily : '',
    fontsLoaded: document.fonts.check('1em KaTeX_Main'),
  };
}"""
