// Draws every server-built figure on the page and wires heatmap clicks to their links.
(function () {
  "use strict";

  function figureFor(el) {
    var source = document.getElementById(el.dataset.figure);
    return source ? JSON.parse(source.textContent) : null;
  }

  function openLink(point) {
    var url = point && point.customdata;
    if (typeof url === "string" && url.charAt(0) === "/") {
      window.location.assign(url);
    }
  }

  function draw(el) {
    var fig = figureFor(el);
    if (!fig) { return; }
    var small = el.classList.contains("sparkline");
    var config = {
      responsive: !small,
      displaylogo: false,
      displayModeBar: small ? false : "hover",
      modeBarButtonsToRemove: ["lasso2d", "select2d"],
    };
    Plotly.newPlot(el, fig.data || [], fig.layout || {}, config).then(function () {
      el.dataset.rendered = "true";
      var clickable = (fig.data || []).some(function (t) { return t.type === "heatmap" && t.customdata; });
      if (clickable) {
        el.on("plotly_click", function (event) { openLink(event.points && event.points[0]); });
        el.classList.add("clickable");
      }
    });
  }

  document.querySelectorAll("[data-figure]").forEach(draw);

  // Typing a date means a custom range: switch the range picker so Apply keeps the dates.
  var range = document.getElementById("f-range");
  ["f-start", "f-end"].forEach(function (id) {
    var input = document.getElementById(id);
    if (input && range) {
      input.addEventListener("change", function () { range.value = "custom"; });
    }
  });
})();
