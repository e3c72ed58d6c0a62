/* The address bar follows a page's query store without redrawing the page (dashboard/filters.py,
 * follow_filters). Dash's page routing listens to its own dcc.Location (_pages_location), which
 * hears pushState only through Dash's "_dashprivate_pushstate" event and the browser's popstate;
 * history.replaceState here raises neither, so a filter change redraws nothing but its data. */
(function () {
    "use strict";

    // What the routing Location last saw: the address of the page as it was drawn.
    let routed = window.location.pathname + window.location.search;
    // Whether a filter change has since replaced that address (the drawn page shows another query).
    let replaced = false;

    function here() {
        return window.location.pathname + window.location.search;
    }

    // The rule of filters.address: the store's keys in order, blanks left out.
    function search(data) {
        const params = new URLSearchParams();
        Object.keys(data || {}).forEach(function (key) {
            const value = data[key];
            if (value !== null && value !== undefined && value !== "") {
                params.set(key, String(value));
            }
        });
        const text = params.toString();
        return text ? "?" + text : "";
    }

    window.addEventListener("_dashprivate_pushstate", function () {
        routed = here();
        replaced = false;
    });
    // Back or forward to the address the page was drawn from, after a filter change replaced it: the
    // routing Location sees no change and would not redraw, so the page is loaded from the address.
    // This listener is added before Dash's Locations mount, so it runs first and keeps them from
    // sending the routing request a reload would only abort.
    window.addEventListener("popstate", function (event) {
        if (replaced && here() === routed) {
            event.stopImmediatePropagation();
            window.location.reload();
            return;
        }
        routed = here();
        replaced = false;
    });

    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.carepulse = {
        // Input: the page's query store; output: the shell's url.search, told the new query (it is
        // refresh=False and the address already equals it, so it pushes nothing).
        writeAddress: function (data) {
            const wanted = search(data);
            if (wanted === window.location.search) {
                return window.dash_clientside.no_update;
            }
            window.history.replaceState(window.history.state, "",
                window.location.pathname + wanted + window.location.hash);
            replaced = here() !== routed;
            return wanted;
        },
    };
}());
