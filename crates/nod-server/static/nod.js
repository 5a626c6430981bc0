// Nod's pages: continue the moment the app answers (server-sent events), count down the
// time left, and submit form_post responses.
(function () {
  "use strict";
  var wait = document.getElementById("wait");
  if (wait && window.EventSource) {
    var source = new EventSource(wait.getAttribute("data-events"));
    source.addEventListener("continue", function (e) {
      source.close();
      window.location.assign(e.data);
    });
    var left = parseInt(wait.getAttribute("data-expires-in"), 10);
    var counter = wait.querySelector("[data-countdown]");
    if (counter && left > 0) {
      var tick = function () {
        var m = Math.floor(left / 60), s = left % 60;
        counter.textContent = "(" + m + ":" + (s < 10 ? "0" : "") + s + ")";
        if (left-- <= 0) { window.location.reload(); } else { setTimeout(tick, 1000); }
      };
      tick();
    }
  }
  var auto = document.querySelector("form[data-autosubmit]");
  if (auto) { auto.submit(); }
  var back = document.querySelector("[data-back]");
  if (back) { back.addEventListener("click", function (e) { e.preventDefault(); history.back(); }); }
})();
