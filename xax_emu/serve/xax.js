// xax.js, served by the xax-emu Monitor at /.xax/xax.js (docs/serve.md, "Lifecycle").
// A page of an instance (a URL under /.xax/ID/) that loads this script holds one
// connection open while it is shown; when the page goes (the tab closes, or it
// navigates away), the connection closes and the instance ends within seconds.
// It also tells the page where its instance lives: window.xax.base ("/.xax/ID/").
(function () {
  "use strict";
  var match = /^\/\.xax\/([0-9a-f]{32})\//.exec(window.location.pathname);
  if (!match) {
    return;
  }
  var base = "/.xax/" + match[1] + "/";
  window.xax = { id: match[1], base: base, alive: new EventSource(base + ".xax/alive") };
})();
