/* Submits the language switcher on change (an inline onchange handler would need 'unsafe-inline' in the CSP). */
document.getElementById("lang-select").addEventListener("change", function () { this.form.submit(); });
