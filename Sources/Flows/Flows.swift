// Module Flows: see ARCHITECTURE.md for what it owns.
