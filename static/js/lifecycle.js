// Loads the lifecycle cards into the model and version pages and draws their charts.
(function () {
  "use strict";

  function draw(el) {
    var source = document.getElementById(el.dataset.figure);
    if (!source || !window.Plotly) { return; }
    var fig = JSON.parse(source.textContent);
    Plotly.newPlot(el, fig.data || [], fig.layout || {}, {responsive: true, displaylogo: false}).then(function () {
      el.dataset.rendered = "true";
    });
  }

  document.querySelectorAll("[data-fragment]").forEach(function (holder) {
    if (holder.dataset.loaded) { return; }
    holder.dataset.loaded = "loading";
    fetch(holder.dataset.fragment, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (html) {
        holder.innerHTML = html;
        holder.dataset.loaded = "true";
        holder.querySelectorAll("[data-figure]").forEach(draw);
        // A select that names another field (the threshold target: min_recall or min_precision).
        holder.querySelectorAll("select[data-names]").forEach(function (select) {
          select.addEventListener("change", function () {
            document.getElementById(select.dataset.names).name = select.value;
          });
        });
        if (window.location.hash === "#lifecycle") { holder.scrollIntoView(); }
      })
      .catch(function (error) {
        holder.dataset.loaded = "error";
        holder.querySelector("p").textContent = "The lifecycle card could not be loaded (" + error.message + ").";
      });
  });
})();
