"""Views: render engine results (plans, diagnostics, history) as text, markdown or JSON. No logic."""
