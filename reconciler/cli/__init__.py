"""The command line: parse arguments, call the engine, pick a view. No decision logic lives here."""
