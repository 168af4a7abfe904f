// The decision page's SHAP waterfall: the figure travels as JSON (a string holding plotly JSON).
(function () {
  "use strict";
  var source = document.getElementById("waterfall-data");
  if (!source) { return; }
  var fig = JSON.parse(JSON.parse(source.textContent));
  Plotly.newPlot("waterfall", fig.data, fig.layout, {responsive: true, displaylogo: false});
})();
