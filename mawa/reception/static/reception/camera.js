/* Mawa — photo from the laptop's camera for the registration form (issue 21).
 * Own code, no library, no external service: getUserMedia shows the camera in the page, a
 * click takes a still (JPEG, drawn on a canvas), and the still is put into the form's photo
 * file input, so it is uploaded like a chosen file. Where there is no camera or the browser
 * refuses it, the file input stays as it is (the fallback) and the buttons stay hidden.
 * Markup: an element [data-camera] holding the file input, a <video>, an <img> preview and
 * buttons [data-camera-start], [data-camera-take], [data-camera-stop].
 */
(function () {
  "use strict";

  function setup(box) {
    var input = box.querySelector("input[type=file]");
    var video = box.querySelector("video");
    var preview = box.querySelector("img[data-camera-preview]");
    var start = box.querySelector("[data-camera-start]");
    var take = box.querySelector("[data-camera-take]");
    var stop = box.querySelector("[data-camera-stop]");
    var status = box.querySelector("[data-camera-status]");
    var stream = null;
    if (!input || !video || !start || !take) return;

    function show(el, on) { if (el) el.hidden = !on; }
    function say(text) { if (status) status.textContent = text || ""; }

    function showPreview(file) {
      if (!preview || !file) return;
      var url = URL.createObjectURL(file);
      preview.src = url;
      show(preview, true);
    }

    function close() {
      if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
      stream = null;
      video.srcObject = null;
      show(video, false); show(take, false); show(stop, false); show(start, true);
    }

    input.addEventListener("change", function () {
      if (input.files && input.files[0]) showPreview(input.files[0]);
    });

    var usable = !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia &&
                    window.DataTransfer);
    show(start, usable);
    if (!usable) return;

    start.addEventListener("click", function () {
      say("");
      navigator.mediaDevices.getUserMedia({video: {width: {ideal: 640}, height: {ideal: 800},
                                                   facingMode: "user"}, audio: false})
        .then(function (s) {
          stream = s;
          video.srcObject = s;
          video.play();
          show(video, true); show(take, true); show(stop, true); show(start, false);
        })
        .catch(function () {
          say(box.getAttribute("data-camera-refused") || "");
          show(start, false);
        });
    });

    take.addEventListener("click", function () {
      var w = video.videoWidth || 640, h = video.videoHeight || 480;
      var canvas = document.createElement("canvas");
      canvas.width = w; canvas.height = h;
      canvas.getContext("2d").drawImage(video, 0, 0, w, h);
      canvas.toBlob(function (blob) {
        if (!blob) return;
        var file = new File([blob], "camera.jpg", {type: "image/jpeg"});
        var dt = new DataTransfer();
        dt.items.add(file);
        input.files = dt.files;
        input.dispatchEvent(new Event("change", {bubbles: true}));
        say(box.getAttribute("data-camera-taken") || "");
        close();
      }, "image/jpeg", 0.9);
    });

    if (stop) stop.addEventListener("click", close);
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-camera]"), setup);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
