// Module Sys: see ARCHITECTURE.md for what it owns.
