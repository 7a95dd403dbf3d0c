"""Mawa's one date format per language (``FORMAT_MODULE_PATH``): every date on a page, filtered
through ``mawa_display``'s ``day``/``when`` or printed bare, reads the same way. Only the display
formats are set here; input formats and separators stay Django's."""
