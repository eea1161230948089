// The Jupyter widget manager (html-manager 1.0) typesets widget labels through the MathJax 2 API
// (MathJax.Hub.Queue); the book loads MathJax 3. Map the one call it makes onto MathJax 3.
// Loaded with `defer` right after MathJax, only on pages that embed widget state.
(function () {
  var mj = window.MathJax;
  if (!mj || mj.Hub || !mj.typesetPromise) return;
  mj.Hub = {
    Queue: function (job) {
      var element = Array.isArray(job) ? job[2] : undefined;
      mj.startup.promise.then(function () {
        return mj.typesetPromise(element ? [element] : undefined);
      });
    }
  };
})();
