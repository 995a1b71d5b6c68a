"""Executors: job agents that carry out tasks on real infrastructure, behind one registry.

Sits beside ``state`` and ``loading`` under the engine. Agents receive a fully planned job; they
never plan, and dry-run is enforced by the engine, not by each agent.
"""
