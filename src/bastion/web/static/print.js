// The printable view's button; a file of its own, since the CSP forbids inline script.
document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("print-button");
  if (button) button.addEventListener("click", () => window.print());
});
