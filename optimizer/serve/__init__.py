"""The planning workbench (issue 15): ``lifecircle serve`` opens a district on a live map in the
browser, with what-ifs evaluated exactly and re-solves that can be cancelled."""
