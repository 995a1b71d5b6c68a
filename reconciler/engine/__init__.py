"""Engine: orchestrates one reconcile pass (load → plan → execute → record) and the loops around it.

The only layer that combines loading, recorded state and executors. Never prints; observers
(progress views) attach through hooks.
"""
