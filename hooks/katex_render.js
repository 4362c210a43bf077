// Renders TeX to HTML with KaTeX, for the site build (hooks/katex_hook.py).
// Protocol: one JSON array of {"tex": string, "display": bool} per input line; one JSON array of
// {"html": string} or {"error": string} per output line, in the same order.
"use strict";
const katex = require("katex");
const readline = require("readline");

const options = (display) => ({
  displayMode: display,
  throwOnError: true,
  // A TeX error must fail the build, not print a red fallback: strict parsing, no unknown commands.
  strict: "error",
  trust: false,
  output: "htmlAndMathml",
});

const lines = readline.createInterface({ input: process.stdin, terminal: false });
lines.on("line", (line) => {
  const out = JSON.parse(line).map(({ tex, display }) => {
    try {
      return { html: katex.renderToString(tex, options(display)) };
    } catch (err) {
      return { error: String(err.message || err) };
    }
  });
  process.stdout.write(JSON.stringify(out) + "\n");
});
