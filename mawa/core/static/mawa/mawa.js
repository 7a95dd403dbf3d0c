/* Mawa page behaviour, loaded by base.html on every page.
 *
 * The Content-Security-Policy (mawa.core.security) allows scripts from this origin only: no
 * inline <script>, no on*= attributes, no hx-on (htmx evaluates those with Function()). Each
 * behaviour below is switched on by markup (a data- attribute or an element id) and does
 * nothing on pages without it. Plain ES2017, no build step, no outside code.
 */
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  // <select data-autosubmit>: choosing an option sends its form (the site switch in the menu).
  document.addEventListener("change", function (ev) {
    var el = ev.target;
    if (el && el.matches && el.matches("select[data-autosubmit]") && el.form) el.form.submit();
  });

  // <form data-submit-once>: disable the save buttons once the form is sent; together with the
  // client key this keeps a double click from even reaching the server twice. The pressed
  // button's name/value travel in a hidden field, since a disabled button sends nothing.
  document.addEventListener("submit", function (ev) {
    var f = ev.target;
    if (!f.matches || !f.matches("form[data-submit-once]")) return;
    var btn = ev.submitter;
    if (btn && btn.name) {
      var h = document.createElement("input");
      h.type = "hidden"; h.name = btn.name; h.value = btn.value; f.appendChild(h);
    }
    f.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
  });

  // <form data-reset-after-request>: an htmx form that clears itself after a successful answer.
  document.addEventListener("htmx:afterRequest", function (ev) {
    var el = ev.detail && ev.detail.elt;
    if (el && el.matches && el.matches("form[data-reset-after-request]") && ev.detail.successful) {
      el.reset();
    }
  });

  // <table class="mawa-table--cards">: each body cell gets its column head as data-label (unless
  // the template wrote one), which the phone layout of mawa.css shows as the cell's label.
  function cardLabels(root) {
    (root || document).querySelectorAll("table.mawa-table--cards").forEach(function (table) {
      var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
        return th.textContent.trim();
      });
      if (!heads.length) return;
      table.querySelectorAll("tbody > tr").forEach(function (tr) {
        var col = 0;
        Array.prototype.forEach.call(tr.children, function (td) {
          var span = td.colSpan || 1;
          if (!td.hasAttribute("data-label")) td.setAttribute("data-label", span > 1 ? "" : (heads[col] || ""));
          col += span;
        });
      });
    });
  }
  ready(function () { cardLabels(document); });
  document.addEventListener("htmx:afterSettle", function () { cardLabels(document); });

  // Camera scanning of QR codes where the browser has a barcode detector (Chrome on Android);
  // elsewhere the field takes codes from a handheld scanner or the keyboard.
  // <button data-qr-scan data-qr-video="camera" data-qr-input="#form [name=code]"
  //         data-qr-then="submit" | data-qr-focus="#form [name=serial]" hidden>
  function qrScan(btn) {
    if (!("BarcodeDetector" in window) || !navigator.mediaDevices) return;
    var video = document.getElementById(btn.dataset.qrVideo);
    if (!video) return;
    btn.hidden = false; btn.classList.remove("d-none");
    btn.addEventListener("click", async function () {
      var detector = new BarcodeDetector({formats: ["qr_code"]});
      var stream = await navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}});
      video.srcObject = stream; video.hidden = false; video.classList.remove("d-none");
      await video.play();
      var tick = async function () {
        var codes = await detector.detect(video).catch(function () { return []; });
        if (codes.length) {
          stream.getTracks().forEach(function (t) { t.stop(); });
          var input = document.querySelector(btn.dataset.qrInput);
          input.value = codes[0].rawValue;
          if (btn.dataset.qrThen === "submit") { input.form.submit(); return; }
          video.hidden = true;
          var next = btn.dataset.qrFocus && document.querySelector(btn.dataset.qrFocus);
          if (next) next.focus();
          return;
        }
        requestAnimationFrame(tick);
      };
      tick();
    });
  }

  // <form data-show-fields='{"weapon": ["serial_number"], ...}' data-show-always='["kind"]'
  //       data-show-by="kind" data-show-target=".it-field">: show only the fields (elements with
  // data-field="name" among the targets) that the kind chosen in the form's "kind" select needs.
  function showFields(form) {
    var select = form.querySelector("select[name=" + (form.dataset.showBy || "kind") + "]");
    if (!select) return;
    var need = JSON.parse(form.dataset.showFields || "{}");
    var always = JSON.parse(form.dataset.showAlways || "[]");
    function show() {
      var wanted = always.concat(need[select.value] || []);
      form.querySelectorAll(form.dataset.showTarget).forEach(function (el) {
        el.hidden = wanted.indexOf(el.dataset.field) < 0;
      });
    }
    select.addEventListener("change", show); show();
  }

  ready(function () {
    document.querySelectorAll("[data-qr-scan]").forEach(qrScan);
    document.querySelectorAll("form[data-show-fields]").forEach(showFields);
    var focus = document.querySelector("[data-autofocus-field]");
    if (focus) {
      var target = document.getElementById(focus.dataset.autofocusField);
      if (target) target.focus();
    }
  });
})();
