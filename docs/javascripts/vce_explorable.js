/* The explorable: drag the logits of one row and watch softmax, the loss and the gradient (plain SVG).
 *
 * Mounted on every <div class="vce-explorable" data-logits="2,1,0.1" data-target="0" data-mode="raw"> through
 * Material's document$ (so it survives instant navigation), replacing the static table the page shows
 * without JavaScript. All arithmetic is VCE.rows.explore (docs/javascripts/vce_rows.js), whose kernels are
 * the emitted, SymPy-checked ones. Every control is a labelled form element, usable with a keyboard; each
 * displayed number also carries its full value in data-value. window.VCE.state holds the last change.
 */
(function (root) {
  "use strict";
  const VCE = (root.VCE = root.VCE || {});
  const SVG = "http://www.w3.org/2000/svg";
  const RANGE = 10; // the sliders' and the drawing's logit range; the number fields take any value
  // The widget's words in each edition (the page's <html lang>); numbers and names stay as they are.
  const WORDS = {
    en: {
      raw: "raw logits (correct)", softmax: "softmax first", sigmoid: "sigmoid first (the bug)",
      classes: "classes C ", feeds: "the model's output goes into the loss as", eps: "label smoothing ",
      weight: "target class weight ", plot: "logits, softmax and gradient per class",
      head: ["class", "target", "logit z", "", "fed to the loss", "softmax", "dL/dz"],
      isTarget: (k) => `class ${k} is the target`, logit: (k) => `logit of class ${k}`,
      anyLogit: (k) => `logit of class ${k}, any value`,
      panels: ["logit z (drag)", "softmax of the input", "dL/dz"], cap: "cap",
      loss: "loss ", lse: "log-sum-exp of the input ", pTarget: "softmax at the target ",
      bestProb: "largest target probability this input allows ", lossFloor: "loss at that best input ",
      sigmoidNote: "Every input is squeezed into (0, 1), so softmax cannot come near 1 and the loss never reaches 0; the gradient is multiplied by sigmoid'(z) <= 1/4. Pass raw logits to cross_entropy.",
      softmaxNote: "Softmax is applied twice: the loss sees probabilities in (0, 1), with the same limits. Pass raw logits to cross_entropy.",
    },
    ko: {
      raw: "원시 로짓 (올바름)", softmax: "소프트맥스를 먼저", sigmoid: "시그모이드를 먼저 (버그)",
      classes: "클래스 수 C ", feeds: "모델 출력이 손실에 들어가는 방식", eps: "레이블 스무딩 ",
      weight: "타깃 클래스 가중치 ", plot: "클래스별 로짓, 소프트맥스, 기울기",
      head: ["클래스", "타깃", "로짓 z", "", "손실에 들어가는 값", "소프트맥스", "dL/dz"],
      isTarget: (k) => `클래스 ${k}이(가) 타깃`, logit: (k) => `클래스 ${k}의 로짓`,
      anyLogit: (k) => `클래스 ${k}의 로짓, 임의의 값`,
      panels: ["로짓 z (끌어 보기)", "입력의 소프트맥스", "dL/dz"], cap: "상한",
      loss: "손실 ", lse: "입력의 로그-합-지수 ", pTarget: "타깃의 소프트맥스 ",
      bestProb: "이 입력으로 가능한 가장 큰 타깃 확률 ", lossFloor: "그 최선의 입력에서의 손실 ",
      sigmoidNote: "모든 입력이 (0, 1)로 눌리므로 소프트맥스는 1 가까이 갈 수 없고 손실은 0에 닿지 않습니다. 기울기에는 sigmoid'(z) <= 1/4가 곱해집니다. cross_entropy에는 원시 로짓을 넘기십시오.",
      softmaxNote: "소프트맥스가 두 번 적용됩니다. 손실은 (0, 1) 안의 확률을 보게 되어 같은 한계가 생깁니다. cross_entropy에는 원시 로짓을 넘기십시오.",
    },
  };
  const lang = typeof document !== "undefined" ? document.documentElement.lang : "en";
  const T = WORDS[lang] || WORDS.en;
  const MODES = [["raw", T.raw], ["softmax", T.softmax], ["sigmoid", T.sigmoid]];
  let serial = 0;

  function el(tag, attrs = {}, text) {
    const node = tag === "svg" || tag === "rect" || tag === "line" || tag === "text" || tag === "g"
      ? document.createElementNS(SVG, tag)
      : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function fmt(v) {
    if (!Number.isFinite(v)) return String(v);
    return Math.abs(v) >= 1e4 ? v.toExponential(3) : v.toFixed(4);
  }

  function shown(node, v) {
    node.textContent = fmt(v);
    node.dataset.value = String(v);
  }

  function mount(host) {
    const id = `vce${serial++}`;
    const state = {
      z: (host.dataset.logits || "2,1,0.1").split(",").map(Number),
      t: Number(host.dataset.target || 0),
      mode: host.dataset.mode || "raw",
      eps: 0,
      weight: 1,
    };
    host.dataset.mounted = "true";
    host.replaceChildren();
    const controls = el("div", { class: "vce-controls" });
    const classes = el("input", { type: "number", min: 2, max: 10, step: 1, value: state.z.length, id: `${id}-classes`, "data-vce": "classes" });
    const group = (...nodes) => {
      const span = el("span", { class: "vce-control" });
      span.append(...nodes);
      return span;
    };
    controls.append(group(el("label", { for: classes.id }, T.classes), classes));
    const modes = el("fieldset", { class: "vce-modes" });
    modes.append(el("legend", {}, T.feeds));
    for (const [value, label] of MODES) {
      const radio = el("input", { type: "radio", name: `${id}-mode`, value, id: `${id}-mode-${value}`, "data-vce": `mode-${value}` });
      radio.checked = value === state.mode;
      radio.addEventListener("change", () => { state.mode = value; update(); });
      modes.append(radio, el("label", { for: radio.id }, label));
    }
    const eps = el("input", { type: "range", min: 0, max: 0.5, step: 0.01, value: 0, id: `${id}-eps`, "data-vce": "eps" });
    const weight = el("input", { type: "range", min: 0.1, max: 3, step: 0.1, value: 1, id: `${id}-weight`, "data-vce": "weight" });
    const epsOut = el("output", { for: eps.id }), weightOut = el("output", { for: weight.id });
    controls.append(modes);
    controls.append(group(el("label", { for: eps.id }, T.eps), eps, epsOut));
    controls.append(group(el("label", { for: weight.id }, T.weight), weight, weightOut));
    const svg = el("svg", { viewBox: "0 0 600 200", class: "vce-plot", role: "img", "aria-label": T.plot });
    const table = el("table", { class: "vce-table" });
    const readout = el("div", { class: "vce-readout", "aria-live": "polite" });
    host.append(controls, svg, table, readout);

    eps.addEventListener("input", () => { state.eps = Number(eps.value); update(); });
    weight.addEventListener("input", () => { state.weight = Number(weight.value); update(); });
    classes.addEventListener("change", () => {
      const c = Math.min(10, Math.max(2, Math.round(Number(classes.value)) || 2));
      classes.value = c;
      while (state.z.length < c) state.z.push(0);
      state.z.length = c;
      state.t = Math.min(state.t, c - 1);
      rows();
      update();
    });

    function rows() {
      table.replaceChildren();
      const head = el("tr");
      for (const h of T.head) head.append(el("th", {}, h));
      const thead = el("thead"), tbody = el("tbody");
      thead.append(head);
      table.append(thead, tbody);
      state.z.forEach((zk, k) => {
        const tr = el("tr", { "data-vce": `row-${k}` });
        const radio = el("input", { type: "radio", name: `${id}-target`, id: `${id}-t${k}`, "data-vce": `target-${k}`, "aria-label": T.isTarget(k) });
        radio.checked = k === state.t;
        radio.addEventListener("change", () => { state.t = k; update(); });
        const slider = el("input", { type: "range", min: -RANGE, max: RANGE, step: 0.1, value: zk, id: `${id}-z${k}`, "data-vce": `z-${k}`, "aria-label": T.logit(k) });
        const number = el("input", { type: "number", step: 0.1, value: zk, "data-vce": `zn-${k}`, "aria-label": T.anyLogit(k) });
        const set = (v) => { if (Number.isFinite(v)) { state.z[k] = v; update(); } };
        slider.addEventListener("input", () => set(Number(slider.value)));
        number.addEventListener("change", () => set(Number(number.value)));
        const cells = [el("td", {}, String(k)), el("td"), el("td"), el("td"), el("td", { "data-vce": `fed-${k}` }), el("td", { "data-vce": `p-${k}` }), el("td", { "data-vce": `g-${k}` })];
        cells[1].append(radio);
        cells[2].append(slider);
        cells[3].append(number);
        tr.append(...cells);
        tbody.append(tr);
      });
    }

    function draw(result) {
      svg.replaceChildren();
      const c = state.z.length, panel = 190, gap = 15, top = 22, h = 150, mid = top + h / 2;
      const panels = [
        [T.panels[0], state.z.map((v) => v / RANGE)],
        [T.panels[1], result.probs.map((p) => 2 * p - 1)],
        [T.panels[2], result.gradLogits],
      ];
      panels.forEach(([title, values], i) => {
        const x0 = i * (panel + gap);
        const g = el("g", { "data-vce": `panel-${i}` });
        g.append(el("text", { x: x0 + panel / 2, y: 14, "text-anchor": "middle", class: "vce-title" }, title));
        const base = i === 1 ? top + h : mid;
        g.append(el("line", { x1: x0, x2: x0 + panel, y1: base, y2: base, class: "vce-axis" }));
        const w = panel / c;
        values.forEach((v, k) => {
          const clipped = Math.max(-1, Math.min(1, v));
          const y = i === 1 ? top + h - (clipped + 1) / 2 * h : mid - clipped * h / 2;
          const bar = el("rect", {
            x: x0 + k * w + 2, width: Math.max(1, w - 4),
            y: Math.min(y, base), height: Math.max(1, Math.abs(base - y)),
            class: k === state.t ? "vce-bar vce-target" : "vce-bar",
            "data-vce": `bar-${i}-${k}`,
          });
          bar.addEventListener("click", () => { if (i !== 0) { state.t = k; update(); } });
          g.append(bar);
        });
        if (i === 1 && result.bestProb !== undefined) {  // the cap a bounded input puts on the target's softmax
          const y = top + h - result.bestProb * h;
          g.append(el("line", { x1: x0, x2: x0 + panel, y1: y, y2: y, class: "vce-cap", "data-vce": "cap-line" }));
          g.append(el("text", { x: x0 + panel, y: y - 3, "text-anchor": "end", class: "vce-cap-label" }, `${T.cap} ${fmt(result.bestProb)}`));
        }
        svg.append(g);
      });
      let dragging = null;
      const logitOf = (event) => {
        const box = svg.getBoundingClientRect();
        const y = ((event.clientY - box.top) / box.height) * 200;
        return Math.round(Math.max(-RANGE, Math.min(RANGE, ((mid - y) / (h / 2)) * RANGE)) * 10) / 10;
      };
      svg.onpointerdown = (event) => {
        const box = svg.getBoundingClientRect();
        const x = ((event.clientX - box.left) / box.width) * 600;
        if (x > panel) return;
        dragging = Math.min(c - 1, Math.floor(x / (panel / c)));
        svg.setPointerCapture(event.pointerId);
        state.z[dragging] = logitOf(event);
        update();
      };
      svg.onpointermove = (event) => { if (dragging !== null) { state.z[dragging] = logitOf(event); update(); } };
      svg.onpointerup = () => { dragging = null; };
    }

    function update() {
      const options = { eps: state.eps, weight: state.z.map((_, k) => (k === state.t ? state.weight : 1)) };
      const result = VCE.rows.explore(state.z, state.t, state.mode, options);
      epsOut.textContent = ` ${state.eps.toFixed(2)}`;
      weightOut.textContent = ` ${state.weight.toFixed(1)}`;
      state.z.forEach((zk, k) => {
        const slider = table.querySelector(`[data-vce="z-${k}"]`), number = table.querySelector(`[data-vce="zn-${k}"]`);
        if (Number(slider.value) !== Math.max(-RANGE, Math.min(RANGE, zk))) slider.value = zk;
        if (document.activeElement !== number) number.value = zk;
        table.querySelector(`[data-vce="target-${k}"]`).checked = k === state.t;
        shown(table.querySelector(`[data-vce="fed-${k}"]`), result.fed[k]);
        shown(table.querySelector(`[data-vce="p-${k}"]`), result.probs[k]);
        shown(table.querySelector(`[data-vce="g-${k}"]`), result.gradLogits[k]);
      });
      readout.replaceChildren();
      const line = (label, key, v) => {
        const span = el("span", { "data-vce": key });
        shown(span, v);
        readout.append(el("span", {}, label), span, el("br"));
      };
      line(T.loss, "loss", result.loss);
      line(T.lse, "lse", result.lse);
      line(T.pTarget, "p-target", result.probs[state.t]);
      if (state.mode !== "raw") {
        line(T.bestProb, "best-prob", result.bestProb);
        line(T.lossFloor, "loss-floor", result.lossFloor);
        const note = state.mode === "sigmoid" ? T.sigmoidNote : T.softmaxNote;
        readout.append(el("p", { class: "vce-note" }, note));
      }
      draw(result);
      VCE.state = { z: state.z.slice(), t: state.t, mode: state.mode, eps: state.eps, weight: state.weight, result };
    }

    rows();
    update();
  }

  function mountAll() {
    if (!VCE.rows) return;
    document.querySelectorAll(".vce-explorable:not([data-mounted])").forEach(mount);
  }

  VCE.mount = mountAll;
  if (typeof root.document$ !== "undefined" && root.document$.subscribe) root.document$.subscribe(mountAll);
  else if (typeof document !== "undefined") document.addEventListener("DOMContentLoaded", mountAll);
})(typeof window !== "undefined" ? window : globalThis);
