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

  // The § 4 UStG provision is asked only with the "domestic, VAT-exempt" tax treatment
  // (without script the field simply stays visible; the server clears it otherwise).
  const showTaxExemption = (root) => {
    root.querySelectorAll("[data-show-if-tax-treatment]").forEach((field) => {
      const treatment = field.form && field.form.querySelector("[data-tax-treatment]");
      if (treatment) field.parentElement.hidden = treatment.value !== field.dataset.showIfTaxTreatment;
    });
  };
  document.addEventListener("change", (event) => {
    if (event.target.matches && event.target.matches("[data-tax-treatment]")) showTaxExemption(event.target.form);
  });

  // Tooltips (e.g. on disabled action buttons, which explain why they are disabled).
  const enhance = (root) => {
    openFilledFilters(root);
    showTaxExemption(root);
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

  // Partial updates bring their messages along and put them where the page shows its own
  // (hx-select-oob="#messages"); a page loaded without messages gets the empty box.
  const ensureMessages = () => {
    const content = document.getElementById("content");
    if (!content || document.getElementById("messages")) return;
    const box = document.createElement("div");
    box.className = "messages";
    box.id = "messages";
    box.setAttribute("aria-live", "polite");
    content.prepend(box);
  };

  // htmx follows redirects without telling: an answer from another address (the login page,
  // once the session has expired) is a whole page, not the fragment that was asked for.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const { xhr, requestConfig } = event.detail;
    if (!xhr || !xhr.responseURL || !requestConfig) return;
    const answered = new URL(xhr.responseURL);
    if (answered.pathname !== new URL(requestConfig.path, window.location.href).pathname) {
      event.detail.shouldSwap = false;
      window.location.assign(answered.href);
    }
  });

  // A button form that htmx posts shows nothing when the server refuses (htmx swaps no
  // error pages). Refusals (4xx) changed nothing, so the plain form posts again and the page
  // explains itself; after a server error the page is reloaded to show what is stored.
  document.addEventListener("htmx:responseError", (event) => {
    const form = event.detail.elt;
    if (!(form instanceof HTMLFormElement) || form.method !== "post") return;
    if (event.detail.xhr.status < 500) form.submit();
    else window.location.reload();
  });

  document.addEventListener("DOMContentLoaded", () => {
    ensureMessages();
    enhance(document);
  });
  // Fragments swapped in by htmx get the same treatment.
  document.addEventListener("htmx:afterSwap", (event) => enhance(event.target));
})();
