// Applies the remembered colour theme before the first paint (a classic script in <head>, so the
// page never flashes in the wrong theme). theme.js does the rest.
(function () {
  try {
    var mode = localStorage.getItem('ai-crm.theme');
    if (mode === 'light' || mode === 'dark') document.documentElement.setAttribute('data-theme', mode);
  } catch (e) { /* storage off: follow the system */ }
}());
