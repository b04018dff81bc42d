/* trustcard default theme: progressive enhancement only. Every page works without it. */
(function () {
  "use strict";

  var doc = document;
  doc.documentElement.classList.add("js");

  function each(list, fn) {
    Array.prototype.forEach.call(list, fn);
  }

  function cellValue(row, index) {
    var cell = row.cells[index];
    if (!cell) return "";
    var sort = cell.getAttribute("data-sort");
    return (sort !== null ? sort : cell.textContent).trim();
  }

  function isNumber(text) {
    return text !== "" && !isNaN(Number(text));
  }

  /* Sortable tables: a button in each column header. */
  function makeSortable(table) {
    var body = table.tBodies[0];
    var head = table.tHead;
    if (!body || !head || !head.rows.length) return;
    var headers = head.rows[0].cells;
    each(headers, function (th, index) {
      var label = th.textContent.trim();
      if (!label) return;
      var button = doc.createElement("button");
      button.type = "button";
      button.className = "sort";
      while (th.firstChild) button.appendChild(th.firstChild);
      th.appendChild(button);
      button.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        each(headers, function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var rows = Array.prototype.slice.call(body.rows);
        var numeric = rows.every(function (row) {
          var value = cellValue(row, index);
          return value === "" || isNumber(value);
        });
        rows.sort(function (a, b) {
          var x = cellValue(a, index);
          var y = cellValue(b, index);
          var order = numeric
            ? (Number(x) || 0) - (Number(y) || 0)
            : x.localeCompare(y, undefined, { sensitivity: "base", numeric: true });
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  }

  /* Filters on the handoff list: partner, seller, band. */
  function setUpFilters(form) {
    var table = doc.querySelector("table.handoffs");
    if (!table || !table.tBodies[0]) return;
    var selects = form.querySelectorAll("select[data-filter]");
    var status = form.querySelector(".filter-status");
    var rows = table.tBodies[0].rows;

    function apply() {
      var shown = 0;
      each(rows, function (row) {
        var visible = true;
        each(selects, function (select) {
          var want = select.value;
          if (want && row.getAttribute("data-" + select.getAttribute("data-filter")) !== want) visible = false;
        });
        row.hidden = !visible;
        if (visible) shown += 1;
      });
      if (status) {
        status.textContent = shown === rows.length ? "" : "Showing " + shown + " of " + rows.length + " handoffs.";
      }
    }

    each(selects, function (select) { select.addEventListener("change", apply); });
    form.addEventListener("reset", function () { setTimeout(apply, 0); });
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    form.hidden = false;
    apply();
  }

  /* Meeting view: step through cards with keys or buttons. */
  function setUpReview(cards) {
    var nav = doc.querySelector(".review-nav");
    var position = nav && nav.querySelector(".review-position");
    var index = 0;
    var moving = 0;

    function fromScroll() {
      var line = window.innerHeight * 0.4;
      var found = 0;
      each(cards, function (card, i) {
        if (card.getBoundingClientRect().top <= line) found = i;
      });
      return found;
    }

    function update(i) {
      index = i;
      if (position) position.textContent = (i + 1) + " / " + cards.length;
    }

    function go(step) {
      /* From the top of the page, the first step brings card 1 into view. */
      if (!moving && step > 0 && index === 0 && cards[0].getBoundingClientRect().top > 120) step = 0;
      show(index + step);
    }

    function show(i) {
      if (i < 0 || i >= cards.length) return;
      var card = cards[i];
      update(i);
      moving = Date.now();
      card.focus({ preventScroll: true });
      card.scrollIntoView({ block: "start" });
      if (window.history && history.replaceState) {
        try { history.replaceState(null, "", "#" + card.id); } catch (e) { /* some file:// setups */ }
      }
    }

    if (nav) {
      nav.hidden = false;
      each(nav.querySelectorAll("[data-review]"), function (button) {
        button.addEventListener("click", function () {
          go(button.getAttribute("data-review") === "next" ? 1 : -1);
        });
      });
    }

    doc.addEventListener("keydown", function (event) {
      if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
      var target = event.target;
      if (target && (target.isContentEditable || /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName))) return;
      var step = 0;
      if (event.key === "ArrowRight" || event.key === "j" || event.key === "J") step = 1;
      if (event.key === "ArrowLeft" || event.key === "k" || event.key === "K") step = -1;
      if (!step) return;
      event.preventDefault();
      go(step);
    });

    /* Follow manual scrolling, but not the scroll that show() started. */
    var ticking = false;
    window.addEventListener("scroll", function () {
      if (ticking || Date.now() - moving < 800) return;
      ticking = true;
      window.requestAnimationFrame(function () {
        ticking = false;
        update(fromScroll());
      });
    }, { passive: true });
    var start = Array.prototype.indexOf.call(cards, doc.getElementById(location.hash.slice(1)));
    update(start >= 0 ? start : fromScroll());
  }

  function init() {
    each(doc.querySelectorAll("table.sortable"), makeSortable);
    var form = doc.querySelector("form.filters");
    if (form) setUpFilters(form);
    var cards = doc.querySelectorAll(".review-card");
    if (cards.length) setUpReview(cards);
  }

  if (doc.readyState === "loading") {
    doc.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
