/* Search page: update results in place, one URL per state (pushState), back button restores. */
(function () {
  "use strict";
  var form = document.getElementById("search-form");
  if (!form || !window.fetch || !window.history.pushState || !window.URLSearchParams) return;
  var region = document.getElementById("search-region");
  var query = form.elements.q;
  var action = new URL(form.getAttribute("action"), location.href);
  var wide = window.matchMedia("(min-width: 50rem)");
  var controller = null;
  var typing = null;
  document.documentElement.classList.add("js");

  function openFilters(wasOpen) {
    var filters = document.getElementById("filters");
    if (filters) filters.open = wide.matches || !!wasOpen;
  }

  function formUrl() {
    var params = new URLSearchParams();
    var defaults = {};
    Array.prototype.forEach.call(form.querySelectorAll("[data-default]"), function (field) {
      defaults[field.name] = field.getAttribute("data-default");
    });
    new FormData(form).forEach(function (value, key) {
      // Empty fields and defaults stay out of the URL: one URL per state.
      if (String(value).trim() !== "" && defaults[key] !== value) params.append(key, value);
    });
    var s = params.toString();
    return action.pathname + (s ? "?" + s : "");
  }

  function load(url, push) {
    if (controller) controller.abort();
    controller = new AbortController();
    var active = document.activeElement;
    var focusId = active && region.contains(active) ? active.id : null;
    var filters = document.getElementById("filters");
    var wasOpen = filters && filters.open;
    region.setAttribute("aria-busy", "true");
    return fetch(url, {headers: {"X-Search-Fragment": "1"}, signal: controller.signal,
                       credentials: "same-origin"})
      .then(function (response) { return response.text(); })
      .then(function (html) {
        region.innerHTML = html;
        region.removeAttribute("aria-busy");
        openFilters(wasOpen);
        if (push && url !== location.pathname + location.search) {
          history.pushState({search: true}, "", url);
        }
        var again = focusId && document.getElementById(focusId);
        if (again) again.focus();
      })
      .catch(function (error) {
        if (error.name !== "AbortError") location.href = url;  // fall back to a real load
      });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearTimeout(typing);
    load(formUrl(), true);
  });
  region.addEventListener("change", function (event) {
    if (event.target.matches("input[type=checkbox], select, input[type=number]")) {
      load(formUrl(), true);
    }
  });
  query.addEventListener("input", function () {
    clearTimeout(typing);
    typing = setTimeout(function () { load(formUrl(), true); }, 350);
  });
  region.addEventListener("click", function (event) {
    var link = event.target.closest("a[href]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    var target = new URL(link.href, location.href);
    if (target.origin !== location.origin || target.pathname !== action.pathname) return;
    event.preventDefault();
    query.value = target.searchParams.get("q") || "";
    var paging = !!link.closest(".pagination");
    load(target.pathname + target.search, true).then(function () {
      if (paging) region.scrollIntoView({block: "start"});
    });
  });
  window.addEventListener("popstate", function () {
    query.value = new URLSearchParams(location.search).get("q") || "";
    load(location.pathname + location.search, false);
  });
  history.replaceState({search: true}, "", location.href);
  openFilters(false);
})();
