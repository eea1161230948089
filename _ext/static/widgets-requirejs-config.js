// Tell RequireJS where the widget manager lives (_static/widgets/, not next to the page), so that
// the manager finds its icon fonts there. Loaded between require.js and embed-amd.js
// (nb_ipywidgets_js in _config.yml).
require.config({
  paths: {
    "@jupyter-widgets/html-manager/dist":
      (document.documentElement.dataset.content_root || "./") + "_static/widgets"
  }
});
