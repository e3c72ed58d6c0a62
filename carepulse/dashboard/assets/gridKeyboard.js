// Keyboard use of a grid whose rows open something (the Team queue opens a thread), for dash-ag-grid.
// The page names these functions in the grid's options (components.keyboard_rows); nothing runs unasked.
//  - the grid is ONE tab stop: Tab from a cell leaves the grid (AG Grid would walk every cell); Tab into
//    the grid lands where AG Grid puts it (the header row), and ArrowDown goes to the rows;
//  - the arrow keys move inside, as AG Grid does;
//  - Enter or Space on a focused row sets the grid's cellClicked prop, exactly what a click sets, so the
//    page's one callback opens the row (no second code path).
// Only DOM focus and grid props are touched: no HTML is written, nothing is fetched.
(function () {
  "use strict";
  var dagfuncs = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});

  // tabToNextCell: false lets the browser move focus to the next element after the grid.
  dagfuncs.cpLeaveGridOnTab = function () {
    return false;
  };

  // eventListeners.cellKeyDown: Enter or Space opens the focused row as a click on it would.
  dagfuncs.cpOpenRowOnKey = function (params, setGridProps) {
    var event = params && params.event;
    if (!event || (event.key !== "Enter" && event.key !== " " && event.key !== "Spacebar")) return;
    var node = params.node;
    if (!node || node.rowPinned || node.id === undefined || node.id === null) return;
    event.preventDefault(); // Space would scroll the page
    setGridProps({
      cellClicked: {
        value: params.value,
        colId: params.column ? params.column.getColId() : null,
        rowIndex: params.rowIndex,
        rowId: node.id,
        timestamp: Date.now(),
      },
    });
  };
})();
