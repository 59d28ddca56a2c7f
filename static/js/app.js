// Small progressive enhancements; every page works without them.
(() => {
  // Confirm destructive or irreversible actions (buttons with data-confirm).
  document.addEventListener("click", (event) => {
    const el = event.target.closest("[data-confirm]");
    if (el && !window.confirm(el.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  });

  // IBANs in groups of four, as on bank documents. The forms strip the spaces again; a value
  // that would no longer fit the field's maxlength is left as typed.
  const groupIban = (input) => {
    const raw = input.value.replace(/\s+/g, "").toUpperCase();
    const grouped = raw.replace(/(.{4})(?=.)/g, "$1 ");
    const max = parseInt(input.getAttribute("maxlength") || "0", 10);
    if (raw && (!max || grouped.length <= max) && grouped !== input.value) input.value = grouped;
  };
  const ibanInputs = (root) => root.querySelectorAll('input[name="iban"], input[name$="-iban"], input[data-iban]');

  // Folded filters (phones) open by themselves when one of them is set in the URL.
  const openFilledFilters = (root) => {
    const params = new URLSearchParams(window.location.search);
    root.querySelectorAll("[data-open-if-filled]").forEach((box) => {
      const filled = [...box.querySelectorAll("[name]")].some((el) => {
        const value = params.get(el.name);
        return value !== null && value !== "" && value !== "unknown";
      });
      if (filled) box.classList.add("show");
    });
  };

  // Tooltips (e.g. on disabled action buttons, which explain why they are disabled).
  const enhance = (root) => {
    openFilledFilters(root);
    if (window.bootstrap) {
      root.querySelectorAll('[data-bs-toggle="tooltip"]').forEach((el) => bootstrap.Tooltip.getOrCreateInstance(el));
    }
    ibanInputs(root).forEach(groupIban);
  };

  document.addEventListener("focusout", (event) => {
    if (event.target.matches && event.target.matches('input[name="iban"], input[name$="-iban"], input[data-iban]')) {
      groupIban(event.target);
    }
  });

  // "/" jumps to the global search (as in most back-office tools), unless the user is typing.
  document.addEventListener("keydown", (event) => {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target.closest("input, textarea, select, [contenteditable='true']")) return;
    const search = document.getElementById("global-search");
    if (search) {
      event.preventDefault();
      search.focus();
      search.select();
    }
  });

  document.addEventListener("DOMContentLoaded", () => enhance(document));
  // Fragments swapped in by htmx get the same treatment.
  document.addEventListener("htmx:afterSwap", (event) => enhance(event.target));
})();
