"""One module per dashboard page; Dash imports them (use_pages) and each calls dash.register_page."""
