// Value formatters for dash-ag-grid cells, in the locale the server hands over ('de' or 'en').
// They only turn numbers and ISO timestamps into display text; AG Grid still sorts the raw values.
// The Python twins live in dashboard/formatting.py; keep the two in step.
var dagfuncs = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});

(function () {
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  function missing(v) {
    return v === null || v === undefined || v === "" || (typeof v === "number" && isNaN(v));
  }

  function tag(locale) {
    return locale === "de" ? "de-DE" : "en-GB";
  }

  dagfuncs.cpNumber = function (v, locale, digits) {
    if (missing(v)) return "–";
    if (!isFinite(v)) return "∞";
    return new Intl.NumberFormat(tag(locale), {
      minimumFractionDigits: digits || 0,
      maximumFractionDigits: digits || 0,
    }).format(v);
  };

  dagfuncs.cpPercent = function (v, locale, digits) {
    if (missing(v)) return "–";
    var body = dagfuncs.cpNumber(v * 100, locale, digits === undefined ? 1 : digits);
    return locale === "de" ? body + "\u202f%" : body + "%";
  };

  dagfuncs.cpMoney = function (v, locale, digits) {
    if (missing(v)) return "–";
    var body = dagfuncs.cpNumber(Math.abs(v), locale, digits === undefined ? 2 : digits);
    var sign = v < 0 ? "-" : "";
    return locale === "de" ? sign + body + "\u00a0€" : sign + "€" + body;
  };

  dagfuncs.cpDuration = function (s, locale) {
    if (missing(s)) return "–";
    if (!isFinite(s)) return locale === "de" ? "nicht erreicht" : "not reached";
    var sign = s < 0 ? "-" : "";
    var a = Math.abs(s);
    if (a < 90) return sign + dagfuncs.cpNumber(a, locale, 0) + " s";
    if (a < 90 * 60) return sign + dagfuncs.cpNumber(a / 60, locale, 0) + " min";
    if (a < 36 * 3600) return sign + dagfuncs.cpNumber(a / 3600, locale, 1) + " h";
    // the words of carepulse/metrics/units.py (DURATION_UNITS_DE): only "days" differs in German
    return sign + dagfuncs.cpNumber(a / 86400, locale, 1) + (locale === "de" ? " Tage" : " days");
  };

  // Timestamps arrive as naive local ISO text ('2026-11-03T23:11:59.884'); no time-zone arithmetic here.
  var ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}))?/;

  dagfuncs.cpDate = function (v, locale) {
    if (missing(v)) return "–";
    var m = ISO.exec(String(v));
    if (!m) return String(v);
    if (locale === "de") return m[3] + "." + m[2] + "." + m[1];
    return parseInt(m[3], 10) + " " + MONTHS[parseInt(m[2], 10) - 1] + " " + m[1];
  };

  dagfuncs.cpDateTime = function (v, locale) {
    if (missing(v)) return "–";
    var m = ISO.exec(String(v));
    if (!m) return String(v);
    var time = m[4] !== undefined ? " " + m[4] + ":" + m[5] : "";
    return dagfuncs.cpDate(v, locale) + time;
  };

  dagfuncs.cpBytes = function (v, locale) {
    if (missing(v)) return "–";
    if (v < 1024 * 1024) return dagfuncs.cpNumber(v / 1024, locale, 0) + " KB";
    return dagfuncs.cpNumber(v / (1024 * 1024), locale, 1) + " MB";
  };
})();
