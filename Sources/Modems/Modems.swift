// Module Modems: see ARCHITECTURE.md for what it owns.
