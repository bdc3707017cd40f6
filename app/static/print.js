/* Buttons marked data-print open the browser's print dialog (a file of its own: the
   Content-Security-Policy allows no inline handlers). */
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
