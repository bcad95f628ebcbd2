// The image viewer of the labeling page: zoom (wheel, + and -), pan (drag, arrow keys), fit and
// 1:1, contrast. The image sits in a fixed frame and is moved with a CSS transform (set through
// the style object: the Content-Security-Policy allows no inline style attributes).
// Exposed as window.labelapp.imageViewer(frame, tools) -> {show, key}.
(() => {
  "use strict";
  const MIN_SCALE = 0.05;
  const MAX_SCALE = 40;
  const STEP = 1.25;
  const CONTRASTS = [100, 150, 200];

  function imageViewer(tools) {
    const $ = (id) => document.getElementById(id);
    let frame = null;
    let img = null;
    let scale = 1;
    let fitScale = 1;
    let x = 0;
    let y = 0;
    let contrast = 100;

    function apply() {
      if (!img) return;
      img.style.transform = `translate(${x}px, ${y}px) scale(${scale})`;
      img.style.filter = contrast === 100 ? "" : `contrast(${contrast}%)`;
      img.classList.toggle("pixelated", scale >= 2);
      const fitted = Math.abs(scale - fitScale) < 1e-6;
      $("zoom-level").textContent = fitted ? `fit (${Math.round(scale * 100)}%)` : `${Math.round(scale * 100)}%`;
      frame.classList.toggle("zoomed", scale > fitScale + 1e-6);
      $("contrast").value = String(contrast);
      $("contrast-value").textContent = `${contrast}%`;
    }

    // Keep the image inside the frame: no panning it out of sight.
    function clamp() {
      const fw = frame.clientWidth;
      const fh = frame.clientHeight;
      const w = img.naturalWidth * scale;
      const h = img.naturalHeight * scale;
      x = w <= fw ? (fw - w) / 2 : Math.min(0, Math.max(fw - w, x));
      y = h <= fh ? (fh - h) / 2 : Math.min(0, Math.max(fh - h, y));
    }

    // Zoom to `next`, keeping the image point under (px, py) (frame coordinates) in place.
    function zoomTo(next, px = frame.clientWidth / 2, py = frame.clientHeight / 2) {
      if (!img || !img.naturalWidth) return;
      next = Math.min(MAX_SCALE, Math.max(MIN_SCALE, next));
      x = px - (px - x) * (next / scale);
      y = py - (py - y) * (next / scale);
      scale = next;
      clamp();
      apply();
    }

    function fit() {
      if (!img || !img.naturalWidth) return;
      fitScale = Math.min(frame.clientWidth / img.naturalWidth, frame.clientHeight / img.naturalHeight);
      scale = fitScale;
      clamp();
      apply();
    }

    function pan(dx, dy) {
      if (!img) return;
      x += dx;
      y += dy;
      clamp();
      apply();
    }

    function setContrast(value) {
      contrast = Math.min(300, Math.max(50, Math.round(value)));
      apply();
    }

    function show(container, url, alt) {
      container.replaceChildren();
      frame = document.createElement("div");
      frame.className = "image-frame";
      frame.tabIndex = -1;
      img = document.createElement("img");
      img.alt = alt;
      img.className = "item-image";
      img.draggable = false;
      img.onload = fit;
      img.src = url;
      frame.append(img);
      container.append(frame);
      tools.hidden = false;
      contrast = 100;
      bindFrame(frame);
    }

    function hide() { tools.hidden = true; img = null; }

    function bindFrame(el) {
      el.addEventListener("wheel", (e) => {
        e.preventDefault();
        const box = el.getBoundingClientRect();
        zoomTo(scale * (e.deltaY < 0 ? STEP : 1 / STEP), e.clientX - box.left, e.clientY - box.top);
      }, { passive: false });
      let drag = null;
      el.addEventListener("pointerdown", (e) => {
        drag = { px: e.clientX, py: e.clientY };
        el.setPointerCapture(e.pointerId);
        el.classList.add("dragging");
      });
      el.addEventListener("pointermove", (e) => {
        if (!drag) return;
        pan(e.clientX - drag.px, e.clientY - drag.py);
        drag = { px: e.clientX, py: e.clientY };
      });
      const stop = () => { drag = null; el.classList.remove("dragging"); };
      el.addEventListener("pointerup", stop);
      el.addEventListener("pointercancel", stop);
      el.addEventListener("dblclick", (e) => {
        const box = el.getBoundingClientRect();
        if (scale > fitScale + 1e-6) fit(); else zoomTo(scale * 2, e.clientX - box.left, e.clientY - box.top);
      });
    }

    // The viewer's keys; true when the key was one of them (only while an image is shown).
    function key(k) {
      if (!img) return false;
      const step = Math.max(20, (frame.clientWidth || 400) / 8);
      const actions = {
        "+": () => zoomTo(scale * STEP), "=": () => zoomTo(scale * STEP), "-": () => zoomTo(scale / STEP),
        x: fit, a: () => zoomTo(1),
        c: () => setContrast(CONTRASTS[(CONTRASTS.indexOf(contrast) + 1) % CONTRASTS.length]),
        ArrowLeft: () => pan(step, 0), ArrowRight: () => pan(-step, 0),
        ArrowUp: () => pan(0, step), ArrowDown: () => pan(0, -step),
      };
      const act = actions[k];
      if (!act) return false;
      act();
      return true;
    }

    $("zoom-in").addEventListener("click", () => zoomTo(scale * STEP));
    $("zoom-out").addEventListener("click", () => zoomTo(scale / STEP));
    $("zoom-fit").addEventListener("click", fit);
    $("zoom-actual").addEventListener("click", () => zoomTo(1));
    $("contrast").addEventListener("input", (e) => setContrast(Number(e.target.value)));
    $("contrast-cycle").addEventListener("click", () => key("c"));
    // A resized window keeps a zoomed view (clamped to the frame); a fitted one fits again.
    window.addEventListener("resize", () => {
      if (!img || !img.naturalWidth) return;
      if (Math.abs(scale - fitScale) < 1e-6) { fit(); return; }
      fitScale = Math.min(frame.clientWidth / img.naturalWidth, frame.clientHeight / img.naturalHeight);
      clamp();
      apply();
    });

    return { show, hide, key, state: () => ({ scale, fitScale, x, y, contrast }) };
  }

  window.labelapp.imageViewer = imageViewer;
})();
