/* Registrar console: progressive enhancement only. Every page works without this file; it adds the
   histogram (Chart.js), the colour-by toggle without a reload, and a busy state on slow forms.
   Loaded as a file (the Content-Security-Policy allows no inline script). */
(function () {
  "use strict";

  // Slow form posts (MCP discovery): say so, and refuse a second submission.
  document.addEventListener("submit", function (event) {
    var button = event.target.querySelector("button[data-busy]");
    if (!button) return;
    button.setAttribute("aria-busy", "true");
    button.textContent = button.dataset.busy;
    window.setTimeout(function () { button.disabled = true; }, 0);
  });

  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function drawHistogram() {
    var source = document.getElementById("histogram-data");
    var canvas = document.getElementById("histogram");
    if (!source || !canvas || typeof window.Chart === "undefined") return;
    var data = JSON.parse(source.textContent);
    var group = source.dataset.group === "outcome" ? "outcome" : "eventType";
    var reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    var text = cssVar("--muted");
    var grid = cssVar("--grid");

    function datasets(name) {
      return data.groups[name].map(function (series) {
        return {
          label: series.label,
          data: series.data,
          backgroundColor: series.color,
          borderColor: series.color,
          borderWidth: 0,
          borderRadius: 2,
          barPercentage: 0.92,
          categoryPercentage: 0.96
        };
      });
    }

    var chart = new window.Chart(canvas, {
      type: "bar",
      data: { labels: data.labels, datasets: datasets(group) },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: reduceMotion ? false : { duration: 250 },
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { stacked: true, grid: { display: false }, ticks: { color: text, maxRotation: 0, autoSkip: true, maxTicksLimit: 12 } },
          y: { stacked: true, beginAtZero: true, grid: { color: grid }, border: { display: false }, ticks: { color: text, precision: 0, maxTicksLimit: 5 } }
        },
        plugins: {
          legend: { position: "bottom", labels: { color: text, boxWidth: 10, boxHeight: 10, usePointStyle: true, pointStyle: "rectRounded" } },
          tooltip: {
            filter: function (item) { return item.raw > 0; },
            callbacks: { title: function (items) { return items.length ? data.titles[items[0].dataIndex] : ""; } }
          }
        },
        // A click on a bar narrows the range to that bucket, keeping the filter and keywords.
        onClick: function (_event, elements) {
          if (!elements.length) return;
          var bounds = data.bounds[elements[0].index];
          var params = new URLSearchParams(window.location.search);
          params.set("range", "custom");
          params.set("since", bounds[0]);
          params.set("until", bounds[1]);
          params.delete("after");
          window.location.search = params.toString();
        },
        onHover: function (event, elements) {
          event.native.target.style.cursor = elements.length ? "zoom-in" : "default";
        }
      }
    });

    document.querySelectorAll("[data-group]").forEach(function (link) {
      if (link === source) return;
      link.addEventListener("click", function (event) {
        event.preventDefault();
        var name = link.dataset.group;
        chart.data.datasets = datasets(name);
        chart.update();
        document.querySelectorAll("a[data-group]").forEach(function (other) {
          other.setAttribute("aria-pressed", other === link ? "true" : "false");
        });
        window.history.replaceState(null, "", link.href);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", drawHistogram);
})();
