"""The web dashboard: the deployments × environments matrix, pending approvals with an approve button,
rollout timelines as SVG pictures, and per deployment the releases, jobs and history tabs.

``model`` and ``timeline`` build plain view models (no HTML), ``render`` runs the jinja2 templates,
``routes`` serves them. Views stay apart from logic: templates only draw what the models say.
"""
